//! Trust bundles as the verifier accepts them (SPEC §10).
//!
//! - A signed bundle (what the issuer serves at `/trust` and `issuer export-trust` writes as
//!   `bundle.json`) is opened with the configured root, and refused if its `sequence` is
//!   lower than the highest already seen from its issuer: a verifier never goes back to an
//!   older bundle, which could forgive a compromised key. Its key windows are then applied.
//! - A PEM chain (`bundle.pem`) is what an operator hands an offline verifier: its
//!   certificates are used (each must still chain to the root), with no windows.
//! - A JSON bundle without a signature is refused: its windows cannot be trusted, and
//!   dropping them is exactly the rollback the signature prevents.

use time::OffsetDateTime;

use ccr_pki::bundle::{KeyWindow, TrustBundle, Usage, signed};
use ccr_pki::chain::TrustRoot;
use ccr_pki::hierarchy::Revocation;

use crate::fetch::CacheStore;

/// What a verifier takes from a bundle.
#[derive(Debug, Clone, Default)]
pub struct Trusted {
    /// The certificates (DER); each must still chain to the root where it is used.
    pub certificates: Vec<Vec<u8>>,
    /// The bureau's key windows (empty for a PEM chain).
    pub windows: Vec<KeyWindow>,
    /// The usages' names (display only).
    pub usages: Vec<Usage>,
    /// The bundle's sequence (`None` for a PEM chain).
    pub sequence: Option<u64>,
}

/// Accepts `bytes` as a trust bundle at `now` (see the module's rules), raising the floor
/// of its issuer's sequence in `store`. A signed bundle is refused if its issuing CA is among
/// `revoked_cas` (the root's CRL).
pub fn accept(
    bytes: &[u8],
    root: &TrustRoot,
    revoked_cas: &[Revocation],
    now: OffsetDateTime,
    store: &dyn CacheStore,
) -> Result<Trusted, String> {
    if signed::is_signed(bytes) {
        let bundle =
            signed::open_unrevoked(bytes, root, revoked_cas, now).map_err(|e| e.to_string())?;
        let lane = floor_key(root, &bundle.issuer);
        signed::check_not_older(&bundle, store.bundle_floor(&lane)).map_err(|e| e.to_string())?;
        store.raise_bundle_floor(&lane, bundle.sequence);
        let certificates =
            TrustBundle::certificates_from_bytes(&bundle.to_json()).map_err(|e| e.to_string())?;
        return Ok(Trusted {
            certificates,
            sequence: Some(bundle.sequence),
            usages: bundle.usages,
            windows: bundle.keys,
        });
    }
    if bytes.trim_ascii_start().starts_with(b"{") {
        return Err(
            "the trust bundle is not signed: a verifier takes key windows only from a \
                    bundle signed by the bureau (fetch it again from the issuer's /trust, or \
                    give the PEM chain bundle.pem)"
                .into(),
        );
    }
    let certificates = TrustBundle::certificates_from_bytes(bytes).map_err(|e| e.to_string())?;
    Ok(Trusted {
        certificates,
        ..Trusted::default()
    })
}

/// What a floor is kept under: the issuer as named under one root (a verifier given another
/// root starts afresh).
fn floor_key(root: &TrustRoot, issuer: &str) -> String {
    use sha2::Digest;
    format!("{} {issuer}", hex::encode(sha2::Sha256::digest(root.der())))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fetch::MemoryCache;
    use ccr_pki::hierarchy::{HierarchyNames, generate_hierarchy};
    use ccr_pki::signer::FileKey;

    fn hierarchy() -> (ccr_pki::hierarchy::GeneratedHierarchy, TrustRoot) {
        let h = generate_hierarchy(
            &HierarchyNames::development(),
            "http://127.0.0.1:8080",
            OffsetDateTime::now_utc(),
        )
        .expect("hierarchy");
        let root = TrustRoot::from_der(h.root.certificate_der.clone()).expect("root");
        (h, root)
    }

    /// A root and a bundle of `sequence` signed under it.
    pub(crate) fn signed_bundle(sequence: u64) -> (TrustRoot, Vec<u8>) {
        let (h, root) = hierarchy();
        (root, sign(&h, sequence))
    }

    fn sign(h: &ccr_pki::hierarchy::GeneratedHierarchy, sequence: u64) -> Vec<u8> {
        let certificates: [(&str, &[u8]); 1] = [("token-signing", &h.token_signer.certificate_der)];
        let bundle = TrustBundle::new(
            "http://127.0.0.1:8080",
            OffsetDateTime::now_utc(),
            &certificates,
            vec![],
        )
        .with_keys(sequence, vec![]);
        let key = FileKey::from_pkcs8(&h.issuing_ca.pkcs8).expect("key");
        signed::sign(&bundle, &key, &h.issuing_ca.certificate_der).expect("sign")
    }

    #[test]
    fn an_older_bundle_is_refused_once_a_newer_one_was_seen() {
        let (h, root) = hierarchy();
        let store = MemoryCache::default();
        let now = OffsetDateTime::now_utc();
        let (five, six) = (sign(&h, 5), sign(&h, 6));
        assert_eq!(
            accept(&five, &root, &[], now, &store).expect("5").sequence,
            Some(5)
        );
        assert_eq!(
            accept(&six, &root, &[], now, &store)
                .expect("6")
                .certificates
                .len(),
            1
        );
        assert!(
            accept(&six, &root, &[], now, &store).is_ok(),
            "the same again"
        );
        let err = accept(&five, &root, &[], now, &store).expect_err("rollback");
        assert!(err.contains("older"), "{err}");
        // An unsigned bundle is refused; a PEM chain gives certificates only.
        let unsigned = TrustBundle::new("http://127.0.0.1:8080", now, &[], vec![]).to_json();
        assert!(
            accept(&unsigned, &root, &[], now, &store)
                .expect_err("unsigned")
                .contains("not signed")
        );
        let pem = ccr_pki::hierarchy::der_to_pem("CERTIFICATE", &h.token_signer.certificate_der)
            .expect("pem");
        let from_pem = accept(pem.as_bytes(), &root, &[], now, &store).expect("pem");
        assert_eq!((from_pem.certificates.len(), from_pem.sequence), (1, None));
    }
}
