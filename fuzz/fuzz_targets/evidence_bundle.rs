//! The evidence bundle (SPEC §11): replay, with and without a PDF beside it.
#![no_main]

use ccr_pki::pdf::Limits;
use ccr_verifier::evidence::replay;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let _ = replay(data, None, None, &limits);
    let _ = replay(data, Some(b"%PDF-1.7"), None, &limits);
});
