//! Integration tests: provenance (being written).
