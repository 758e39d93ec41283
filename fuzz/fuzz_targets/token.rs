//! The token: URL, fragment and text decoding, the COSE structure, and the whole token check
//! against the seeds' trust anchor and bundle.
#![no_main]

use ccr_pki::pdf::Limits;
use ccr_verifier::check::{CheckContext, StatusInput, check_token};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(bytes) = ccr_pki::token::from_url_or_text(&text) else {
        return;
    };
    if let Ok(token) = ccr_pki::token::parse(&bytes) {
        let _ = token.kid();
        let _ = token.claims_unverified();
    }
    let limits = Limits::default();
    let ctx = CheckContext {
        root: ccr_fuzz::root(),
        status: StatusInput::None,
        at: ccr_fuzz::AT,
        limits: &limits,
        windows: &[],
    };
    let _ = check_token(&bytes, ccr_fuzz::bundle(), &ctx);
});
