//! Console pages: catalog (tests to be written).
