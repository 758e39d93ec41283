//! What the fuzz targets share: the trust anchor and bundle the seed corpus was made with
//! (`seeds/root.pem`, `seeds/bundle.pem`, written by `seeds.sh`), so that seeds reach the
//! signature, chain and status checks instead of stopping at "untrusted".
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use ccr_pki::chain::TrustRoot;
use time::OffsetDateTime;
use time::macros::datetime;

const ROOT_PEM: &[u8] = include_bytes!("../seeds/root.pem");
const BUNDLE_PEM: &[u8] = include_bytes!("../seeds/bundle.pem");

/// The instant the targets judge at: inside the seeds' validity, so a seed verifies fully.
pub const AT: OffsetDateTime = datetime!(2026-12-06 00:00:00 UTC);

/// The seeds' trust anchor.
pub fn root() -> &'static TrustRoot {
    static ROOT: OnceLock<TrustRoot> = OnceLock::new();
    ROOT.get_or_init(|| TrustRoot::from_pem(ROOT_PEM).expect("seeds/root.pem"))
}

/// The seeds' trust bundle (DER certificates).
pub fn bundle() -> &'static [Vec<u8>] {
    static BUNDLE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        ccr_pki::bundle::TrustBundle::certificates_from_bytes(BUNDLE_PEM).expect("seeds/bundle.pem")
    })
}
