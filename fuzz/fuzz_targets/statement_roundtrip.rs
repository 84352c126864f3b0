#![no_main]
//! Fuzz target `statement_roundtrip`: see `slsa_provenance_action::fuzzing::statement_roundtrip`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    slsa_provenance_action::fuzzing::statement_roundtrip(data);
});
