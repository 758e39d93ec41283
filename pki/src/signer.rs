//! Private-key operations behind one small trait.
//!
//! Everything that signs (the CAs, the document signer, the time-stamp authority, the token
//! signer) goes through [`Signer`], so a key held in a PKCS#11 token can replace a file key
//! without touching the formats. Only ECDSA P-256 with SHA-256 is generated here; the trait
//! names the algorithm so an RSA key held in an HSM fits later.

pub mod pkcs11;

use std::path::Path;

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
};

use crate::Error;

/// The signature algorithms a [`Signer`] can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA over NIST P-256 with SHA-256.
    EcdsaP256Sha256,
    /// Ed25519 (RFC 8032; the transfer signer, SPEC §9). The encoding argument of
    /// [`Signer::sign`] is ignored: the signature is always the 64-byte `R || S`.
    Ed25519,
}

/// Length of a key id in bytes.
pub const KEY_ID_LEN: usize = 8;

/// The key id of a raw public key (the bit string of its `SubjectPublicKeyInfo`: the
/// uncompressed EC point, or Ed25519's 32 bytes): the first 8 bytes of its SHA-256 (SPEC §10).
/// A PKCS#11 key carries it as `CKA_ID`, so it is known before any certificate exists.
pub fn key_id_bytes(raw_public_key: &[u8]) -> [u8; KEY_ID_LEN] {
    let digest = ring::digest::digest(&ring::digest::SHA256, raw_public_key);
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&digest.as_ref()[..KEY_ID_LEN]);
    id
}

/// The key id of a DER `SubjectPublicKeyInfo` (see [`key_id_bytes`]).
pub fn key_id_of_spki(spki_der: &[u8]) -> Result<[u8; KEY_ID_LEN], Error> {
    use der::Decode as _;
    let spki = spki::SubjectPublicKeyInfoOwned::from_der(spki_der)?;
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| Error::Key("public key bit string has unused bits".into()))?;
    Ok(key_id_bytes(raw))
}

/// The key id of a signer, as lowercase hex.
pub fn key_id_hex(signer: &dyn Signer) -> Result<String, Error> {
    Ok(hex::encode(key_id_of_spki(signer.public_key_spki_der())?))
}

/// How the signature value is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureEncoding {
    /// `ECDSA-Sig-Value` DER (X.509, CRLs, CMS).
    Der,
    /// Fixed-width `r || s` (COSE, RFC 9053 §2.1).
    Fixed,
}

/// A private key that signs messages (the signer hashes).
pub trait Signer: Send + Sync + std::fmt::Debug {
    /// The algorithm of this key.
    fn algorithm(&self) -> KeyAlgorithm;
    /// The public key as a DER `SubjectPublicKeyInfo`.
    fn public_key_spki_der(&self) -> &[u8];
    /// Signs `message` (hashing it with the algorithm's digest).
    fn sign(&self, message: &[u8], encoding: SignatureEncoding) -> Result<Vec<u8>, Error>;
}

/// A P-256 key held in a PKCS#8 file.
pub struct FileKey {
    der_signing: EcdsaKeyPair,
    fixed_signing: EcdsaKeyPair,
    spki_der: Vec<u8>,
    rng: SystemRandom,
}

impl std::fmt::Debug for FileKey {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKey").finish_non_exhaustive()
    }
}

impl FileKey {
    /// Generates a new P-256 key and returns it with its PKCS#8 encoding.
    pub fn generate() -> Result<(Self, Vec<u8>), Error> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| Error::Key("key generation failed".into()))?;
        let key = Self::from_pkcs8(pkcs8.as_ref())?;
        Ok((key, pkcs8.as_ref().to_vec()))
    }

    /// Loads a P-256 key from PKCS#8 DER.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let der_signing = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
            .map_err(|e| Error::Key(format!("not a P-256 PKCS#8 key: {e}")))?;
        let fixed_signing = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|e| Error::Key(format!("not a P-256 PKCS#8 key: {e}")))?;
        let spki_der = crate::x509::p256_spki_der(der_signing.public_key().as_ref())?;
        Ok(Self {
            der_signing,
            fixed_signing,
            spki_der,
            rng,
        })
    }

    /// Loads a key file written by [`write_private_file`], refusing one that group or others
    /// can read.
    pub fn load(path: &Path) -> Result<Self, Error> {
        check_private_mode(path)?;
        let pkcs8 = std::fs::read(path)
            .map_err(|e| Error::Key(format!("cannot read key {}: {e}", path.display())))?;
        Self::from_pkcs8(&pkcs8)
    }
}

impl Signer for FileKey {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP256Sha256
    }

    fn public_key_spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    fn sign(&self, message: &[u8], encoding: SignatureEncoding) -> Result<Vec<u8>, Error> {
        let key = match encoding {
            SignatureEncoding::Der => &self.der_signing,
            SignatureEncoding::Fixed => &self.fixed_signing,
        };
        key.sign(&self.rng, message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| Error::Key("signing failed".into()))
    }
}

/// An Ed25519 key held in a PKCS#8 file (the transfer signer).
pub struct Ed25519FileKey {
    pair: ring::signature::Ed25519KeyPair,
    spki_der: Vec<u8>,
}

impl std::fmt::Debug for Ed25519FileKey {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519FileKey").finish_non_exhaustive()
    }
}

/// DER prefix of an Ed25519 `SubjectPublicKeyInfo` (RFC 8410 §4), before the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The `SubjectPublicKeyInfo` of a raw 32-byte Ed25519 public key.
pub fn ed25519_spki_der(raw: &[u8]) -> Result<Vec<u8>, Error> {
    if raw.len() != 32 {
        return Err(Error::Key(format!(
            "an Ed25519 public key has 32 bytes, not {}",
            raw.len()
        )));
    }
    let mut spki = ED25519_SPKI_PREFIX.to_vec();
    spki.extend_from_slice(raw);
    Ok(spki)
}

impl Ed25519FileKey {
    /// Generates a new key and returns it with its PKCS#8 encoding.
    pub fn generate() -> Result<(Self, Vec<u8>), Error> {
        let rng = SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| Error::Key("cannot generate an Ed25519 key".into()))?;
        let pkcs8 = pkcs8.as_ref().to_vec();
        Ok((Self::from_pkcs8(&pkcs8)?, pkcs8))
    }

    /// Loads an Ed25519 key from PKCS#8 DER (v1 or v2).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, Error> {
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|e| Error::Key(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        let spki_der = ed25519_spki_der(pair.public_key().as_ref())?;
        Ok(Self { pair, spki_der })
    }

    /// Loads a key file, refusing one that group or others can read.
    pub fn load(path: &Path) -> Result<Self, Error> {
        Self::from_pkcs8(&read_private_file(path)?)
    }
}

impl Signer for Ed25519FileKey {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Ed25519
    }

    fn public_key_spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    fn sign(&self, message: &[u8], _encoding: SignatureEncoding) -> Result<Vec<u8>, Error> {
        Ok(self.pair.sign(message).as_ref().to_vec())
    }
}

/// Reads a secret file written by [`write_private_file`], refusing one that group or others
/// can read.
pub fn read_private_file(path: &Path) -> Result<Vec<u8>, Error> {
    check_private_mode(path)?;
    std::fs::read(path).map_err(|e| Error::Key(format!("cannot read {}: {e}", path.display())))
}

/// Writes `bytes` to a new file readable by its owner only (mode 0600), refusing to overwrite.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::Key(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::Key(format!("cannot write {}: {e}", path.display())))
}

fn check_private_mode(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::Key(format!("cannot read key {}: {e}", path.display())))?;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Error::Key(format!(
                "key file {} has mode {:o}; it must not be readable by group or others (chmod 600)",
                path.display(),
                mode & 0o777
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trips_through_a_private_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (key, pkcs8) = FileKey::generate().expect("generate");
        let path = dir.path().join("k.p8");
        write_private_file(&path, &pkcs8).expect("write");
        let loaded = FileKey::load(&path).expect("load");
        assert_eq!(key.public_key_spki_der(), loaded.public_key_spki_der());
        assert!(
            write_private_file(&path, &pkcs8).is_err(),
            "must not overwrite"
        );
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, pkcs8) = FileKey::generate().expect("generate");
        let path = dir.path().join("k.p8");
        std::fs::write(&path, &pkcs8).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = FileKey::load(&path).expect_err("must refuse");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn fixed_signature_verifies_with_ring() {
        let (key, _) = FileKey::generate().expect("generate");
        let sig = key.sign(b"hello", SignatureEncoding::Fixed).expect("sign");
        assert_eq!(sig.len(), 64);
        let point = crate::x509::spki_ec_point(key.public_key_spki_der()).expect("point");
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
            .verify(b"hello", &sig)
            .expect("verifies");
    }
}
