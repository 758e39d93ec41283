//! Where each role's private key lives (SPEC §10): a PKCS#8 file in the home (development)
//! or a key generated inside a PKCS#11 token (production), chosen per role in `issuer.toml`:
//!
//! ```toml
//! [keys.document-signer]          # one table per role; a role without one uses `file`
//! backend = "pkcs11"
//! module = "/usr/lib/softhsm/libsofthsm2.so"
//! token_label = "ccr-online"      # tokens are found by label: slot numbers change
//! pin_file = "/etc/ccr/token.pin" # mode 0600, the user PIN on its first line
//! ```
//!
//! Everything that makes or loads a role's key goes through [`KeyStore`], so the key
//! lifecycle (`issuer keys rotate`) generates a role's next key in whichever backend the role
//! uses without knowing which. A key is named by a [`KeyRef`]: its backend, its key id (the
//! first 8 bytes of SHA-256 of the raw public key, [`ccr_pki::signer::key_id_bytes`]; also a
//! PKCS#11 key's `CKA_ID`) and where to find it. A role configured for PKCS#11 never falls
//! back to a file: if the token cannot give the key, opening fails with the reason.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use ccr_pki::signer::pkcs11::{Token, read_pin_file};
use ccr_pki::signer::{
    Ed25519FileKey, FileKey, KEY_ID_LEN, KeyAlgorithm, Signer, key_id_hex, key_id_of_spki,
    write_private_file,
};

/// A role that holds a key online (the root is offline and never listed here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Issuing CA (signs end-entity certificates and the CRL).
    IssuingCa,
    /// Document signer (PAdES signatures).
    DocumentSigner,
    /// Time-stamp authority (RFC 3161).
    Tsa,
    /// Token signer (QR tokens and status lists).
    TokenSigner,
    /// Transfer signer (Ed25519 webhook signatures to departments, SPEC §9).
    TransferSigner,
}

impl Role {
    /// Every online role, in the order SPEC §6 lists them.
    pub const ALL: [Role; 5] = [
        Role::IssuingCa,
        Role::DocumentSigner,
        Role::Tsa,
        Role::TokenSigner,
        Role::TransferSigner,
    ];

    /// The role's name in commands, configuration and file names.
    pub fn name(self) -> &'static str {
        match self {
            Role::IssuingCa => "issuing-ca",
            Role::DocumentSigner => "document-signer",
            Role::Tsa => "tsa",
            Role::TokenSigner => "token-signer",
            Role::TransferSigner => "transfer-signer",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The key algorithm of the role: Ed25519 for the transfer signer (SPEC §9), P-256 for
    /// the rest (SPEC §4).
    pub fn algorithm(self) -> KeyAlgorithm {
        match self {
            Role::TransferSigner => KeyAlgorithm::Ed25519,
            _ => KeyAlgorithm::EcdsaP256Sha256,
        }
    }

    /// The file a development home has always kept this role's key in (`pki/<role>.key.p8`).
    pub fn legacy_key_file(self) -> String {
        format!("{}.key.p8", self.name())
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Names one key in its backend. Serialisable, so the key lifecycle can record it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase", deny_unknown_fields)]
pub enum KeyRef {
    /// A PKCS#8 file (mode 0600) in the home's `pki/` folder.
    File {
        /// Lowercase hex key id.
        key_id: String,
        /// File name inside `pki/` (no directories).
        file: String,
    },
    /// A key inside a PKCS#11 token, found by `CKA_ID` = key id.
    Pkcs11 {
        /// Lowercase hex key id (also the `CKA_ID`).
        key_id: String,
        /// The token's label.
        token_label: String,
    },
}

impl KeyRef {
    /// The key id, lowercase hex.
    pub fn key_id(&self) -> &str {
        match self {
            KeyRef::File { key_id, .. } | KeyRef::Pkcs11 { key_id, .. } => key_id,
        }
    }

    /// The backend's name (`file` or `pkcs11`).
    pub fn backend(&self) -> &'static str {
        match self {
            KeyRef::File { .. } => "file",
            KeyRef::Pkcs11 { .. } => "pkcs11",
        }
    }
}

/// Why a key could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// The backend failed (file, key format, or the token: see the message).
    #[error("{role}: {source}")]
    Backend {
        /// The role whose key was asked for.
        role: Role,
        /// What failed.
        source: ccr_pki::Error,
    },
    /// The key found is not the one asked for (a file replaced, a certificate of another key).
    #[error("{role}: key {found} found where key {expected} was expected")]
    WrongKey {
        /// The role.
        role: Role,
        /// The key id asked for.
        expected: String,
        /// The key id found.
        found: String,
    },
    /// The reference names another backend than the role's store.
    #[error(
        "{role}: key {key_id} is held by {found}, but the role is configured for {configured}; refusing to use it"
    )]
    WrongBackend {
        /// The role.
        role: Role,
        /// The key id.
        key_id: String,
        /// The backend the reference names.
        found: &'static str,
        /// The backend configured for the role.
        configured: &'static str,
    },
}

/// Makes and opens one role's keys in one backend.
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// The backend's name (`file` or `pkcs11`).
    fn backend(&self) -> &'static str;

    /// Generates a new key for `role` (its algorithm: [`Role::algorithm`]) and stores it:
    /// a new 0600 file, or a sensitive, non-extractable token object. Never overwrites.
    fn generate(&self, role: Role) -> Result<(Arc<dyn Signer>, KeyRef), KeyStoreError>;

    /// Opens the key `key` names, checking that its public key has the key id the reference
    /// names.
    fn open(&self, role: Role, key: &KeyRef) -> Result<Arc<dyn Signer>, KeyStoreError>;
}

/// Checks that `signer` has the key id `expected`.
fn check_key_id(role: Role, signer: &dyn Signer, expected: &str) -> Result<(), KeyStoreError> {
    let found = key_id_hex(signer).map_err(|source| KeyStoreError::Backend { role, source })?;
    if found != expected {
        return Err(KeyStoreError::WrongKey {
            role,
            expected: expected.to_owned(),
            found,
        });
    }
    Ok(())
}

/// Keys as PKCS#8 files in the home's `pki/` folder (mode 0600): the development default.
#[derive(Debug, Clone)]
pub struct FileKeyStore {
    pki_dir: PathBuf,
}

impl FileKeyStore {
    /// The store in `pki_dir` (the home's `pki/`).
    pub fn new(pki_dir: &Path) -> Self {
        Self {
            pki_dir: pki_dir.to_owned(),
        }
    }

    /// The reference to the file `file` in this store, whose key has id `key_id`.
    pub fn key_ref(file: &str, key_id: &str) -> KeyRef {
        KeyRef::File {
            key_id: key_id.to_owned(),
            file: file.to_owned(),
        }
    }

    fn load(&self, role: Role, file: &str) -> Result<Arc<dyn Signer>, ccr_pki::Error> {
        // The name comes from our own records, but a path in it would escape `pki/`.
        if file.is_empty() || file.contains(['/', '\\']) || file.starts_with('.') {
            return Err(ccr_pki::Error::Key(format!("bad key file name {file:?}")));
        }
        let path = self.pki_dir.join(file);
        Ok(match role.algorithm() {
            KeyAlgorithm::EcdsaP256Sha256 => Arc::new(FileKey::load(&path)?),
            KeyAlgorithm::Ed25519 => Arc::new(Ed25519FileKey::load(&path)?),
        })
    }
}

impl KeyStore for FileKeyStore {
    fn backend(&self) -> &'static str {
        "file"
    }

    fn generate(&self, role: Role) -> Result<(Arc<dyn Signer>, KeyRef), KeyStoreError> {
        let backend = |source| KeyStoreError::Backend { role, source };
        let (signer, pkcs8): (Arc<dyn Signer>, Vec<u8>) = match role.algorithm() {
            KeyAlgorithm::EcdsaP256Sha256 => {
                let (key, pkcs8) = FileKey::generate().map_err(backend)?;
                (Arc::new(key), pkcs8)
            }
            KeyAlgorithm::Ed25519 => {
                let (key, pkcs8) = Ed25519FileKey::generate().map_err(backend)?;
                (Arc::new(key), pkcs8)
            }
        };
        let key_id = key_id_hex(signer.as_ref()).map_err(backend)?;
        // The key id in the name keeps a role's successive keys apart (rotation).
        let file = format!("{}-{key_id}.key.p8", role.name());
        write_private_file(&self.pki_dir.join(&file), &pkcs8).map_err(backend)?;
        Ok((signer, Self::key_ref(&file, &key_id)))
    }

    fn open(&self, role: Role, key: &KeyRef) -> Result<Arc<dyn Signer>, KeyStoreError> {
        let KeyRef::File { key_id, file } = key else {
            return Err(KeyStoreError::WrongBackend {
                role,
                key_id: key.key_id().to_owned(),
                found: key.backend(),
                configured: self.backend(),
            });
        };
        let signer = self
            .load(role, file)
            .map_err(|source| KeyStoreError::Backend { role, source })?;
        check_key_id(role, signer.as_ref(), key_id)?;
        Ok(signer)
    }
}

/// Where one role's keys live, as configured in `issuer.toml` (`[keys.<role>]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum BackendConfig {
    /// PKCS#8 files in the home's `pki/` (development).
    File(FileConfig),
    /// A PKCS#11 token.
    Pkcs11(Pkcs11Config),
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self::File(FileConfig {})
    }
}

/// The file backend has no settings; any setting given with it is a mistake and refused.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {}

/// A PKCS#11 token as configured. A misspelt setting is refused, never ignored: a role
/// silently left on its defaults could use a key the operator did not mean.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The module (shared library), e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token's label (slot numbers change; labels do not).
    pub token_label: String,
    /// A file (mode 0600) holding the user PIN on its first line.
    pub pin_file: PathBuf,
}

/// The `[keys]` section: a backend per role; a role left out uses files.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KeysConfig {
    /// Issuing CA.
    pub issuing_ca: Option<BackendConfig>,
    /// Document signer.
    pub document_signer: Option<BackendConfig>,
    /// Time-stamp authority.
    pub tsa: Option<BackendConfig>,
    /// Token signer.
    pub token_signer: Option<BackendConfig>,
    /// Transfer signer.
    pub transfer_signer: Option<BackendConfig>,
}

impl KeysConfig {
    /// The backend of `role`.
    pub fn backend(&self, role: Role) -> BackendConfig {
        let chosen = match role {
            Role::IssuingCa => &self.issuing_ca,
            Role::DocumentSigner => &self.document_signer,
            Role::Tsa => &self.tsa,
            Role::TokenSigner => &self.token_signer,
            Role::TransferSigner => &self.transfer_signer,
        };
        chosen.clone().unwrap_or_default()
    }

    /// The `[keys.<role>]` tables that put every online role in one token (for `issuer init`).
    pub fn all_in_token_toml(token: &Pkcs11Config) -> String {
        let mut out = String::from(
            "\n# Every online role's key is generated in this PKCS#11 token; none is on disk.\n",
        );
        for role in Role::ALL {
            out.push_str(&format!(
                "[keys.{}]\nbackend = \"pkcs11\"\nmodule = {:?}\ntoken_label = {:?}\npin_file = {:?}\n\n",
                role.name(),
                token.module.display().to_string(),
                token.token_label,
                token.pin_file.display().to_string(),
            ));
        }
        out
    }
}

/// Keys in a PKCS#11 token. Never falls back to a file.
#[derive(Debug, Clone)]
pub struct Pkcs11KeyStore {
    token: Arc<Token>,
}

impl Pkcs11KeyStore {
    /// The token (logged in).
    pub fn token(&self) -> &Arc<Token> {
        &self.token
    }
}

impl KeyStore for Pkcs11KeyStore {
    fn backend(&self) -> &'static str {
        "pkcs11"
    }

    fn generate(&self, role: Role) -> Result<(Arc<dyn Signer>, KeyRef), KeyStoreError> {
        let key = self
            .token
            .generate(role.algorithm())
            .map_err(|e| KeyStoreError::Backend {
                role,
                source: e.into(),
            })?;
        let key_ref = KeyRef::Pkcs11 {
            key_id: key.key_id_hex().to_owned(),
            token_label: self.token.label().to_owned(),
        };
        Ok((Arc::new(key), key_ref))
    }

    fn open(&self, role: Role, key: &KeyRef) -> Result<Arc<dyn Signer>, KeyStoreError> {
        let backend = |source: ccr_pki::Error| KeyStoreError::Backend { role, source };
        let KeyRef::Pkcs11 {
            key_id,
            token_label,
        } = key
        else {
            return Err(KeyStoreError::WrongBackend {
                role,
                key_id: key.key_id().to_owned(),
                found: key.backend(),
                configured: self.backend(),
            });
        };
        if token_label != self.token.label() {
            return Err(backend(ccr_pki::Error::Key(format!(
                "key {key_id} is in token {token_label:?}, but the role is configured for token {:?}",
                self.token.label()
            ))));
        }
        let id: [u8; KEY_ID_LEN] = hex::decode(key_id)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| backend(ccr_pki::Error::Key(format!("bad key id {key_id:?}"))))?;
        let key = self
            .token
            .open_key(&id, role.algorithm())
            .map_err(|e| backend(e.into()))?;
        Ok(Arc::new(key))
    }
}

/// Every role's store, as configured. Roles in the same token share one logged-in token.
#[derive(Debug)]
pub struct KeyStores {
    file: FileKeyStore,
    config: KeysConfig,
    tokens: Mutex<HashMap<(PathBuf, String), Pkcs11KeyStore>>,
}

impl KeyStores {
    /// The stores of a home whose `pki/` is `pki_dir`.
    pub fn new(pki_dir: &Path, config: KeysConfig) -> Self {
        Self {
            file: FileKeyStore::new(pki_dir),
            config,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// The store `role` is configured for (opening and logging in to its token if needed).
    pub fn for_role(&self, role: Role) -> Result<Arc<dyn KeyStore>, KeyStoreError> {
        match self.config.backend(role) {
            BackendConfig::File(_) => Ok(Arc::new(self.file.clone())),
            BackendConfig::Pkcs11(token) => Ok(Arc::new(self.token(role, &token)?)),
        }
    }

    fn token(&self, role: Role, config: &Pkcs11Config) -> Result<Pkcs11KeyStore, KeyStoreError> {
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (config.module.clone(), config.token_label.clone());
        if let Some(store) = tokens.get(&key) {
            return Ok(store.clone());
        }
        let backend = |e: ccr_pki::signer::pkcs11::Pkcs11Error| KeyStoreError::Backend {
            role,
            source: e.into(),
        };
        let pin = read_pin_file(&config.pin_file).map_err(backend)?;
        let token = Token::open(&config.module, &config.token_label, &pin).map_err(backend)?;
        let store = Pkcs11KeyStore { token };
        tokens.insert(key, store.clone());
        Ok(store)
    }

    /// The reference to the key certified by a certificate with public key `spki_der`, in
    /// the store `role` is configured for. A file key is `pki/<role>-<key id>.key.p8` (made
    /// by [`KeyStore::generate`]) or, failing that, `pki/<role>.key.p8` (made by
    /// `issuer init`); either way its key id is checked when opened.
    pub fn certified_key_ref(&self, role: Role, spki_der: &[u8]) -> Result<KeyRef, KeyStoreError> {
        let key_id = hex::encode(
            key_id_of_spki(spki_der).map_err(|source| KeyStoreError::Backend { role, source })?,
        );
        Ok(match self.config.backend(role) {
            BackendConfig::File(_) => {
                let named = format!("{}-{key_id}.key.p8", role.name());
                let file = if self.file.pki_dir.join(&named).exists() {
                    named
                } else {
                    role.legacy_key_file()
                };
                KeyRef::File { key_id, file }
            }
            BackendConfig::Pkcs11(token) => KeyRef::Pkcs11 {
                key_id,
                token_label: token.token_label,
            },
        })
    }

    /// Opens the key certified by a certificate with public key `spki_der`.
    pub fn open_certified(
        &self,
        role: Role,
        spki_der: &[u8],
    ) -> Result<Arc<dyn Signer>, KeyStoreError> {
        let key = self.certified_key_ref(role, spki_der)?;
        self.for_role(role)?.open(role, &key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccr_pki::signer::SignatureEncoding;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.name()), Some(role));
        }
        assert_eq!(
            Role::parse("root"),
            None,
            "the root is never an online role"
        );
    }

    #[test]
    fn file_store_generates_opens_and_checks_the_key_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileKeyStore::new(dir.path());
        for role in Role::ALL {
            let (signer, key) = store.generate(role).expect("generate");
            assert_eq!(signer.algorithm(), role.algorithm());
            let opened = store.open(role, &key).expect("open");
            assert_eq!(opened.public_key_spki_der(), signer.public_key_spki_der());
            let sig = opened.sign(b"m", SignatureEncoding::Fixed).expect("signs");
            assert_eq!(sig.len(), 64);
            // A reference naming another key id is refused, not silently accepted.
            let KeyRef::File { file, .. } = &key else {
                panic!("file store made {key:?}")
            };
            let wrong = FileKeyStore::key_ref(file, "0000000000000000");
            assert!(matches!(
                store.open(role, &wrong),
                Err(KeyStoreError::WrongKey { .. })
            ));
        }
    }

    #[test]
    fn file_store_refuses_a_token_reference_and_path_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileKeyStore::new(dir.path());
        let token = KeyRef::Pkcs11 {
            key_id: "0011223344556677".into(),
            token_label: "t".into(),
        };
        let err = store.open(Role::Tsa, &token).expect_err("wrong backend");
        assert!(err.to_string().contains("refusing"), "{err}");
        let escape = FileKeyStore::key_ref("../x.key.p8", "0011223344556677");
        assert!(store.open(Role::Tsa, &escape).is_err());
    }

    #[test]
    fn keys_config_reads_a_backend_per_role() {
        let config: KeysConfig = toml::from_str(
            r#"
            [tsa]
            backend = "pkcs11"
            module = "/m.so"
            token_label = "t"
            pin_file = "/p"
            [token-signer]
            backend = "file"
            "#,
        )
        .expect("parses");
        assert!(
            matches!(config.backend(Role::Tsa), BackendConfig::Pkcs11(ref c) if c.token_label == "t")
        );
        assert_eq!(config.backend(Role::TokenSigner), BackendConfig::default());
        assert_eq!(config.backend(Role::IssuingCa), BackendConfig::default());
        assert!(toml::from_str::<KeysConfig>("[root]\nbackend = \"file\"").is_err());
        assert!(toml::from_str::<KeysConfig>("[tsa]\nbackend = \"hsm\"").is_err());
        // Misspelt or stray settings are refused, in either backend.
        let misspelt = "[tsa]\nbackend = \"pkcs11\"\nmodule = \"/m.so\"\ntoken_lable = \"t\"\npin_file = \"/p\"";
        assert!(toml::from_str::<KeysConfig>(misspelt).is_err());
        let stray = "[tsa]\nbackend = \"pkcs11\"\nmodule = \"/m.so\"\ntoken_label = \"t\"\npin_file = \"/p\"\nslot = 0";
        assert!(toml::from_str::<KeysConfig>(stray).is_err());
        assert!(
            toml::from_str::<KeysConfig>("[tsa]\nbackend = \"file\"\nmodule = \"/m.so\"").is_err()
        );
        let all = KeysConfig::all_in_token_toml(&Pkcs11Config {
            module: "/m.so".into(),
            token_label: "t".into(),
            pin_file: "/p".into(),
        });
        #[derive(Deserialize)]
        struct Wrapper {
            keys: KeysConfig,
        }
        let parsed: Wrapper = toml::from_str(&all).expect("generated toml parses");
        for role in Role::ALL {
            assert!(matches!(
                parsed.keys.backend(role),
                BackendConfig::Pkcs11(_)
            ));
        }
    }

    #[test]
    fn key_ref_serialises_with_its_backend() {
        let key = KeyRef::Pkcs11 {
            key_id: "0011223344556677".into(),
            token_label: "ccr".into(),
        };
        let json = serde_json::to_string(&key).expect("json");
        assert_eq!(
            json,
            r#"{"backend":"pkcs11","key_id":"0011223344556677","token_label":"ccr"}"#
        );
        assert_eq!(serde_json::from_str::<KeyRef>(&json).expect("back"), key);
    }
}
