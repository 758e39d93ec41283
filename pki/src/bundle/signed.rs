//! The signed, versioned trust bundle (SPEC §10): a JWS in the flattened JSON serialisation
//! (RFC 7515 §7.2.2) whose payload is the bundle's JSON.
//!
//! ```text
//! { "protected": BASE64URL({"alg":"ES256","typ":"ccr-trust-bundle+json","x5c":[ISSUING-CA]}),
//!   "payload":   BASE64URL(bundle JSON),
//!   "signature": BASE64URL(r || s) }
//! ```
//!
//! The issuing CA signs it: the one online key a verifier can check with nothing but the
//! root (its certificate, in `x5c`, must be issued by the root and valid now), and not the
//! token signer, so that a stolen token key cannot publish a bundle that forgives itself.
//! The bundle's `sequence` only grows; a verifier keeps the highest it has seen per issuer
//! and refuses an older bundle (the rollback that let the EU's revoked keys back in).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_cert::Certificate;

use super::{MAX_BUNDLE_BYTES, TrustBundle};
use crate::Error;
use crate::chain::TrustRoot;
use crate::hierarchy::{Revocation, from_x509_time, parse_certificate};
use crate::signer::{KeyAlgorithm, SignatureEncoding, Signer};

/// The JWS `typ` of a signed bundle.
pub const TYP: &str = "ccr-trust-bundle+json";
/// Largest signed bundle read (its payload is base64url of at most [`MAX_BUNDLE_BYTES`]).
pub const MAX_SIGNED_BUNDLE_BYTES: usize = MAX_BUNDLE_BYTES * 4 / 3 + 16 * 1024;

/// The envelope (RFC 7515 §7.2.2).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    protected: String,
    payload: String,
    signature: String,
}

/// The protected header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Protected {
    alg: String,
    typ: String,
    x5c: Vec<String>,
}

fn refused(why: impl std::fmt::Display) -> Error {
    Error::Bundle(why.to_string())
}

/// Whether `bytes` look like a signed bundle (rather than a plain bundle or a PEM chain).
pub fn is_signed(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64)];
    bytes.trim_ascii_start().starts_with(b"{")
        && head
            .windows(b"\"protected\"".len())
            .any(|w| w == b"\"protected\"")
}

/// The payload of a signed bundle, not authenticated: for readers that check each
/// certificate against the root themselves and take nothing else from it but display names.
/// `None` if `bytes` are not a readable signed bundle.
pub fn payload_unverified(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() > MAX_SIGNED_BUNDLE_BYTES {
        return None;
    }
    let envelope: Envelope = serde_json::from_slice(bytes).ok()?;
    URL_SAFE_NO_PAD.decode(envelope.payload).ok()
}

/// Signs `bundle` with the issuing CA's key; `issuing_ca_der` is its certificate.
pub fn sign(
    bundle: &TrustBundle,
    issuing_ca: &dyn Signer,
    issuing_ca_der: &[u8],
) -> Result<Vec<u8>, Error> {
    if issuing_ca.algorithm() != KeyAlgorithm::EcdsaP256Sha256 {
        return Err(refused(
            "the bundle is signed with ES256: the issuing CA key must be P-256",
        ));
    }
    let protected = serde_json::to_vec(&Protected {
        alg: "ES256".into(),
        typ: TYP.into(),
        x5c: vec![STANDARD.encode(issuing_ca_der)],
    })
    .map_err(refused)?;
    let protected = URL_SAFE_NO_PAD.encode(protected);
    let payload = URL_SAFE_NO_PAD.encode(bundle.to_json());
    let signing_input = format!("{protected}.{payload}");
    let signature = issuing_ca.sign(signing_input.as_bytes(), SignatureEncoding::Fixed)?;
    let envelope = Envelope {
        protected,
        payload,
        signature: URL_SAFE_NO_PAD.encode(signature),
    };
    serde_json::to_vec_pretty(&envelope).map_err(refused)
}

/// The uncompressed P-256 point of a certificate's key.
fn ec_point(cert: &Certificate) -> Result<Vec<u8>, Error> {
    let spki = cert.tbs_certificate().subject_public_key_info().to_der()?;
    crate::x509::spki_ec_point(&spki)
}

/// Checks that `ca` is a CA certificate issued (signed) by `root` and valid at `now`.
fn check_issued_by_root(
    ca: &Certificate,
    root: &Certificate,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let tbs = ca.tbs_certificate();
    if tbs.issuer() != root.tbs_certificate().subject() {
        return Err(refused(
            "the bundle's signing certificate was not issued by the root",
        ));
    }
    if ca.signature_algorithm().oid != crate::oids::ECDSA_WITH_SHA256 {
        return Err(refused(
            "the bundle's signing certificate is not signed with ecdsa-with-SHA256",
        ));
    }
    let signature = ca
        .signature()
        .as_bytes()
        .ok_or_else(|| refused("the signing certificate's signature has unused bits"))?;
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_ASN1,
        ec_point(root)?,
    )
    .verify(&tbs.to_der()?, signature)
    .map_err(|_| refused("the bundle's signing certificate was not signed by the root"))?;
    let validity = tbs.validity();
    let (from, until) = (
        from_x509_time(&validity.not_before)?,
        from_x509_time(&validity.not_after)?,
    );
    if now < from || now > until {
        return Err(refused(format!(
            "the bundle's signing certificate is not valid at {now} ({from} to {until})"
        )));
    }
    let is_ca = tbs
        .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, bc)| bc.ca);
    if !is_ca {
        return Err(refused("the bundle's signing certificate is not a CA"));
    }
    Ok(())
}

/// Opens a signed bundle: the issuing CA in its header must be issued by `root` and valid at
/// `now`, and its signature over the payload must verify. Says nothing of rollback: the
/// caller compares [`TrustBundle::sequence`] with the highest it has seen.
pub fn open(bytes: &[u8], root: &TrustRoot, now: OffsetDateTime) -> Result<TrustBundle, Error> {
    open_unrevoked(bytes, root, &[], now)
}

/// Opens a signed bundle as [`open`] does, and refuses it if the issuing CA that signed it is
/// among `revoked_cas` (the root's CRL, checked by the caller), whatever the date of the
/// revocation: a bundle carries no time a verifier can trust, and a thief holding a revoked
/// CA's key can sign any sequence and windows it likes.
pub fn open_unrevoked(
    bytes: &[u8],
    root: &TrustRoot,
    revoked_cas: &[Revocation],
    now: OffsetDateTime,
) -> Result<TrustBundle, Error> {
    if bytes.len() > MAX_SIGNED_BUNDLE_BYTES {
        return Err(refused(format!(
            "the signed trust bundle exceeds {MAX_SIGNED_BUNDLE_BYTES} bytes"
        )));
    }
    let envelope: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| refused(format!("not a signed trust bundle: {e}")))?;
    let decode = |field: &str, text: &str| {
        URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|e| refused(format!("`{field}` is not base64url: {e}")))
    };
    let protected: Protected = serde_json::from_slice(&decode("protected", &envelope.protected)?)
        .map_err(|e| refused(format!("the protected header: {e}")))?;
    if protected.alg != "ES256" || protected.typ != TYP {
        return Err(refused(format!(
            "unexpected header alg {:?} typ {:?} (want ES256, {TYP})",
            protected.alg, protected.typ
        )));
    }
    let [ca_b64] = protected.x5c.as_slice() else {
        return Err(refused(
            "`x5c` must hold exactly the issuing CA's certificate",
        ));
    };
    let ca_der = STANDARD
        .decode(ca_b64)
        .map_err(|e| refused(format!("`x5c`: {e}")))?;
    let ca = parse_certificate(&ca_der)?;
    let root_cert = Certificate::from_der(root.der())?;
    check_issued_by_root(&ca, &root_cert, now)?;
    let serial = ca.tbs_certificate().serial_number().as_bytes();
    if let Some(revocation) = revoked_cas.iter().find(|r| r.serial == serial) {
        return Err(refused(format!(
            "the bundle is signed by {}, which the root revoked as of {}: no bundle it signs is \
             trusted",
            ca.tbs_certificate().subject(),
            revocation.revoked_at
        )));
    }
    let signature = decode("signature", &envelope.signature)?;
    let signing_input = format!("{}.{}", envelope.protected, envelope.payload);
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_FIXED,
        ec_point(&ca)?,
    )
    .verify(signing_input.as_bytes(), &signature)
    .map_err(|_| refused("the trust bundle's signature does not verify"))?;
    TrustBundle::from_json(&decode("payload", &envelope.payload)?)
}

/// Refuses `bundle` if its sequence is lower than `newest_seen` (a rollback).
pub fn check_not_older(bundle: &TrustBundle, newest_seen: Option<u64>) -> Result<(), Error> {
    match newest_seen {
        Some(seen) if bundle.sequence < seen => Err(refused(format!(
            "trust bundle {} of {} is older than bundle {seen} already seen: refused (a \
             verifier never goes back to an older bundle)",
            bundle.sequence, bundle.issuer
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
