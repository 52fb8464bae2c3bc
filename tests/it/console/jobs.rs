//! Console pages: jobs (tests to be written).
