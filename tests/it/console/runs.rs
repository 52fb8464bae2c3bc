//! Console pages: runs (tests to be written).
