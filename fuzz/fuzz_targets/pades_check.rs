//! PAdES inspection and the whole PDF check (signature, time-stamps, later revisions, token,
//! status) against the seeds' trust anchor.
#![no_main]

use ccr_pki::pdf::Limits;
use ccr_verifier::check::{CheckContext, StatusInput, check_pdf};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let _ = ccr_pki::pades::inspect(data, &limits);
    let ctx = CheckContext {
        root: ccr_fuzz::root(),
        status: StatusInput::None,
        at: ccr_fuzz::AT,
        limits: &limits,
        windows: &[],
    };
    let _ = check_pdf(data, &ctx);
});
