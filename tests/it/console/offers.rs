//! Console pages: offers (tests to be written).
