//! Certification requests (PKCS #10, RFC 2986): how the online home asks the offline root to
//! certify its issuing CA's key without the key, or the root's, leaving where it lives.
//!
//! ```text
//! CertificationRequest ::= SEQUENCE {
//!      certificationRequestInfo CertificationRequestInfo,
//!      signatureAlgorithm AlgorithmIdentifier{{ SignatureAlgorithms }},
//!      signature          BIT STRING
//! }
//!
//! CertificationRequestInfo ::= SEQUENCE {
//!      version       INTEGER { v1(0) } (v1,...),
//!      subject       Name,
//!      subjectPKInfo SubjectPublicKeyInfo{{ PKInfoAlgorithms }},
//!      attributes    [0] Attributes{{ CRIAttributes }}
//! }
//! ```
//!
//! The request is signed by the key it names (proof of possession), ECDSA P-256 with SHA-256
//! as everything else in the hierarchy. The root takes only the public key from it: the
//! subject, lifetime and extensions come from the bureau's profile (`hierarchy::certify`),
//! never from the requester.

use std::str::FromStr;

use der::asn1::{BitString, SetOfVec};
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, Version};

use crate::error::Error;
use crate::hierarchy::ecdsa_sha256;
use crate::oids;
use crate::signer::{SignatureEncoding, Signer};

/// A request is a few hundred bytes; anything much larger is not one of ours.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// A PKCS #10 request (DER) for `key`'s public key under `subject` (an RFC 4514 string),
/// signed by `key`.
pub fn certification_request(subject: &str, key: &dyn Signer) -> Result<Vec<u8>, Error> {
    let info = CertReqInfo {
        version: Version::V1,
        subject: Name::from_str(subject)?,
        public_key: SubjectPublicKeyInfoOwned::from_der(key.public_key_spki_der())?,
        attributes: SetOfVec::new(),
    };
    let signature = key.sign(&info.to_der()?, SignatureEncoding::Der)?;
    Ok(CertReq {
        info,
        algorithm: ecdsa_sha256(),
        signature: BitString::from_bytes(&signature)?,
    }
    .to_der()?)
}

/// Checks a PKCS #10 request (DER) — its size, its encoding, ecdsa-with-SHA256 over a P-256
/// key, and its signature by that key — and returns the public key it asks to certify
/// (`SubjectPublicKeyInfo`, DER).
pub fn verified_public_key(request_der: &[u8]) -> Result<Vec<u8>, Error> {
    let refused = |why: &str| Error::Certificate(format!("certification request: {why}"));
    if request_der.len() > MAX_REQUEST_BYTES {
        return Err(refused(&format!(
            "{} bytes, more than the {MAX_REQUEST_BYTES} a request may have",
            request_der.len()
        )));
    }
    let request = CertReq::from_der(request_der)
        .map_err(|e| refused(&format!("not a DER PKCS #10 request: {e}")))?;
    if request.algorithm.oid != oids::ECDSA_WITH_SHA256 || request.algorithm.parameters.is_some() {
        return Err(refused("not signed with ecdsa-with-SHA256"));
    }
    let spki = request.info.public_key.to_der()?;
    let point = crate::x509::spki_ec_point(&spki)
        .map_err(|e| refused(&format!("the key is not a P-256 public key: {e}")))?;
    let signature = request
        .signature
        .as_bytes()
        .ok_or_else(|| refused("the signature has unused bits"))?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, point)
        .verify(&request.info.to_der()?, signature)
        .map_err(|_| refused("the signature does not verify with the key it names"))?;
    Ok(spki)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::FileKey;

    const SUBJECT: &str = "CN=DSI Criminal Record Issuing CA,O=Identification Services Bureau,C=MO";

    #[test]
    fn a_request_gives_back_the_key_that_signed_it() {
        let (key, _) = FileKey::generate().expect("key");
        let der = certification_request(SUBJECT, &key).expect("request");
        assert_eq!(
            verified_public_key(&der).expect("verified"),
            key.public_key_spki_der()
        );
    }

    #[test]
    fn a_request_for_another_key_or_with_any_byte_changed_is_refused() {
        let (key, _) = FileKey::generate().expect("key");
        let (other, _) = FileKey::generate().expect("key");
        let der = certification_request(SUBJECT, &key).expect("request");
        // The request's info with another key, under the first key's signature.
        let mut request = CertReq::from_der(&der).expect("parse");
        request.info.public_key =
            SubjectPublicKeyInfoOwned::from_der(other.public_key_spki_der()).expect("spki");
        let swapped = request.to_der().expect("der");
        assert!(verified_public_key(&swapped).is_err());
        for i in 0..der.len() {
            let mut changed = der.clone();
            changed[i] ^= 0x01;
            assert!(
                verified_public_key(&changed).is_err(),
                "byte {i} changed and the request still verified"
            );
        }
        assert!(verified_public_key(&vec![0u8; MAX_REQUEST_BYTES + 1]).is_err());
    }
}
