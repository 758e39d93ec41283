//! CMS/DER: a SignedData as a PAdES signature and as an RFC 3161 time-stamp token.
#![no_main]

use ccr_pki::cades::{Expect, verify};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let digest = [0u8; 32];
    let _ = verify(
        data,
        Expect::Pades {
            content_digest: &digest,
        },
    );
    let _ = verify(data, Expect::TimestampToken);
    let _ = ccr_pki::tsp::verify_token_over_digest(data, &digest);
});
