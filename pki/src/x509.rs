//! X.509 helpers shared by the hierarchy, CMS and verification code.

use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::Error;

/// id-ecPublicKey (RFC 5480).
pub const ID_EC_PUBLIC_KEY: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 (RFC 5480).
pub const SECP256R1: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// Wraps an uncompressed P-256 point in a DER `SubjectPublicKeyInfo`.
pub fn p256_spki_der(point: &[u8]) -> Result<Vec<u8>, Error> {
    let spki = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(der::Any::from(&SECP256R1)),
        },
        subject_public_key: der::asn1::BitString::from_bytes(point)?,
    };
    Ok(spki.to_der()?)
}

/// The EC point of a P-256 `SubjectPublicKeyInfo`, for ring's verifiers.
pub fn spki_ec_point(spki_der: &[u8]) -> Result<Vec<u8>, Error> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)?;
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY
        || spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
            != Some(SECP256R1)
    {
        return Err(Error::Certificate("public key is not ECDSA P-256".into()));
    }
    spki.subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| Error::Certificate("public key bit string is not octet-aligned".into()))
}
