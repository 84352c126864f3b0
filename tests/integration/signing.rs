//! Integration tests: signing (being written).
