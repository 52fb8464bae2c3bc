//! Console pages: cerema (tests to be written).
