//! Integration tests: publish (being written).
