//! The signed trust bundle (SPEC §10) as a verifier accepts it: the JWS envelope, the issuing
//! CA in its header checked against the seeds' root, the signature, the payload's JSON, and
//! the rollback floor; also the unauthenticated readers (certificates, usages).
#![no_main]

use ccr_pki::bundle::{TrustBundle, signed};
use ccr_verifier::fetch::MemoryCache;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let store = MemoryCache::default();
    let _ = ccr_verifier::trust::accept(data, ccr_fuzz::root(), &[], ccr_fuzz::AT, &store);
    // The same bytes again: the floor they raised must not make them fail differently.
    let _ = ccr_verifier::trust::accept(data, ccr_fuzz::root(), &[], ccr_fuzz::AT, &store);
    if let Some(payload) = signed::payload_unverified(data) {
        let _ = TrustBundle::from_json(&payload);
    }
    let _ = TrustBundle::certificates_from_bytes(data);
    let _ = TrustBundle::usages_from_bytes(data);
});
