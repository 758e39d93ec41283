//! A [`Signer`] whose key lives in a PKCS#11 token (SPEC §10; SoftHSM2 in tests).
//!
//! Keys are generated inside the token (`CKA_TOKEN`, `CKA_SENSITIVE`, not `CKA_EXTRACTABLE`)
//! and found by `CKA_ID` = key id ([`key_id_bytes`]). Tokens are found by label, because slot
//! numbers change when a token is initialised. P-256 signing uses `CKM_ECDSA` over a SHA-256
//! digest computed here (SoftHSM 2.6 has no `CKM_ECDSA_SHA256`), and the raw `r || s` is
//! DER-encoded when the caller asks for DER. Ed25519 (the transfer signer) uses `CKM_EDDSA`.
//!
//! A `Session` is `Send` but not `Sync`, so a [`Token`] keeps a small pool of them behind a
//! mutex; one extra session stays open for the token's lifetime, because closing a token's
//! last session logs it out. A failed operation drops (closes) its session instead of
//! returning it to the pool, so a session broken by a removed token is not reused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use super::{KEY_ID_LEN, KeyAlgorithm, SignatureEncoding, Signer, key_id_bytes};

/// Most idle sessions a token keeps for reuse (beyond the one that keeps it logged in).
pub const MAX_POOLED_SESSIONS: usize = 8;
/// Longest PIN file read (a PIN is short; anything longer is not a PIN file).
const MAX_PIN_FILE_BYTES: usize = 1024;

/// DER of the P-256 curve OID (1.2.840.10045.3.1.7), the `CKA_EC_PARAMS` of our EC keys.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of the Ed25519 OID (1.3.101.112, RFC 8410).
const ED25519_PARAMS: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];

/// What went wrong with a token. Each case names what an operator should look at.
#[derive(Debug, thiserror::Error)]
pub enum Pkcs11Error {
    /// The module (shared library) could not be loaded.
    #[error("PKCS#11 module {path} cannot be loaded: {detail}")]
    ModuleMissing {
        /// The module path.
        path: PathBuf,
        /// The loader's message.
        detail: String,
    },
    /// No token with this label is present.
    #[error("no PKCS#11 token labelled {label:?} is present (tokens seen: {seen:?})")]
    TokenNotFound {
        /// The label asked for.
        label: String,
        /// Labels of the tokens present.
        seen: Vec<String>,
    },
    /// The PIN file could not be read.
    #[error("PIN file {path}: {detail}")]
    PinFile {
        /// The PIN file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The token refused the PIN.
    #[error("token {label:?} refused the PIN ({rv})")]
    WrongPin {
        /// The token.
        label: String,
        /// The token's answer.
        rv: String,
    },
    /// No key with this id is in the token.
    #[error("token {label:?} holds no private key with id {key_id}")]
    KeyNotFound {
        /// The token.
        label: String,
        /// The key id, hex.
        key_id: String,
    },
    /// More than one key has this id: refusing to guess which one signs.
    #[error("token {label:?} holds {count} private keys with id {key_id}; refusing to choose one")]
    AmbiguousKey {
        /// The token.
        label: String,
        /// The key id, hex.
        key_id: String,
        /// How many keys carry it.
        count: usize,
    },
    /// The token went away (removed, finalised, its session invalidated).
    #[error("token {label:?} is no longer available during {operation}: {rv}")]
    TokenRemoved {
        /// The token.
        label: String,
        /// What was being done.
        operation: &'static str,
        /// The token's answer.
        rv: String,
    },
    /// A key was found but does not behave as its public key says (self-test).
    #[error("key {key_id} in token {label:?} failed its sign-and-verify self-test: {detail}")]
    SelfTest {
        /// The token.
        label: String,
        /// The key id, hex.
        key_id: String,
        /// What failed.
        detail: String,
    },
    /// Any other failure of the module.
    #[error("token {label:?}: {operation} failed: {detail}")]
    Failed {
        /// The token.
        label: String,
        /// What was being done.
        operation: &'static str,
        /// The module's answer.
        detail: String,
    },
}

/// Reads a PIN from the first line of `path`, refusing a file group or others can read.
pub fn read_pin_file(path: &Path) -> Result<AuthPin, Pkcs11Error> {
    let bad = |detail: String| Pkcs11Error::PinFile {
        path: path.to_owned(),
        detail,
    };
    let bytes = super::read_private_file(path).map_err(|e| bad(e.to_string()))?;
    if bytes.len() > MAX_PIN_FILE_BYTES {
        return Err(bad(format!("longer than {MAX_PIN_FILE_BYTES} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
    let pin = text.lines().next().unwrap_or("").trim();
    if pin.is_empty() {
        return Err(bad("empty".into()));
    }
    Ok(AuthPin::from(pin.to_owned()))
}

/// One context per module for the whole process: initialising a module twice fails, and
/// finalising it would end every other user's sessions.
fn context(module: &Path) -> Result<Pkcs11, Pkcs11Error> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut contexts = CONTEXTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(ctx) = contexts.get(module) {
        return Ok(ctx.clone());
    }
    let missing = |detail: String| Pkcs11Error::ModuleMissing {
        path: module.to_owned(),
        detail,
    };
    if !module.is_file() {
        return Err(missing("no such file".into()));
    }
    let ctx = Pkcs11::new(module).map_err(|e| missing(e.to_string()))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(missing(format!("C_Initialize: {e}"))),
    }
    contexts.insert(module.to_owned(), ctx.clone());
    Ok(ctx)
}

/// An open, logged-in token.
pub struct Token {
    ctx: Pkcs11,
    slot: Slot,
    label: String,
    /// Keeps the login alive; never used for operations.
    _login: Mutex<Session>,
    pool: Mutex<Vec<Session>>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

fn rv_of(e: &CkError) -> Option<RvError> {
    match e {
        CkError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

fn is_gone(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::TokenNotPresent
            | RvError::DeviceRemoved
            | RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::CryptokiNotInitialized
            | RvError::SlotIdInvalid
            | RvError::ObjectHandleInvalid
            | RvError::KeyHandleInvalid
            | RvError::UserNotLoggedIn
            | RvError::DeviceError
    )
}

impl Token {
    /// Loads `module`, finds the token labelled `label` and logs in with `pin`.
    pub fn open(module: &Path, label: &str, pin: &AuthPin) -> Result<Arc<Token>, Pkcs11Error> {
        let ctx = context(module)?;
        let failed = |operation, e: CkError| Pkcs11Error::Failed {
            label: label.to_owned(),
            operation,
            detail: e.to_string(),
        };
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| failed("listing slots", e))?;
        let mut seen = Vec::new();
        let mut found = None;
        for slot in slots {
            let info = ctx
                .get_token_info(slot)
                .map_err(|e| failed("reading token info", e))?;
            // Labels are blank-padded to 32 bytes.
            let this = info.label().trim_end().to_owned();
            if this == label {
                if found.is_some() {
                    return Err(Pkcs11Error::Failed {
                        label: label.to_owned(),
                        operation: "finding the token",
                        detail: "two tokens carry this label".into(),
                    });
                }
                found = Some(slot);
            }
            seen.push(this);
        }
        let slot = found.ok_or_else(|| Pkcs11Error::TokenNotFound {
            label: label.to_owned(),
            seen,
        })?;
        let login = ctx
            .open_rw_session(slot)
            .map_err(|e| failed("opening a session", e))?;
        match login.login(UserType::User, Some(pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(
                rv @ (RvError::PinIncorrect
                | RvError::PinLenRange
                | RvError::PinLocked
                | RvError::PinInvalid
                | RvError::PinExpired),
                _,
            )) => {
                return Err(Pkcs11Error::WrongPin {
                    label: label.to_owned(),
                    rv: format!("{rv:?}"),
                });
            }
            Err(e) => return Err(failed("logging in", e)),
        }
        Ok(Arc::new(Token {
            ctx,
            slot,
            label: label.to_owned(),
            _login: Mutex::new(login),
            pool: Mutex::new(Vec::new()),
        }))
    }

    /// The token's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Runs `f` on a pooled session. A session whose operation failed is closed, not pooled.
    fn with_session<R>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&Session) -> Result<R, CkError>,
    ) -> Result<R, Pkcs11Error> {
        let pooled = self
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let session = match pooled {
            Some(session) => session,
            None => self
                .ctx
                .open_rw_session(self.slot)
                .map_err(|e| self.error(operation, &e))?,
        };
        let result = f(&session).map_err(|e| self.error(operation, &e))?;
        let mut pool = self
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if pool.len() < MAX_POOLED_SESSIONS {
            pool.push(session);
        }
        Ok(result)
    }

    fn error(&self, operation: &'static str, e: &CkError) -> Pkcs11Error {
        match rv_of(e) {
            Some(rv) if is_gone(rv) => Pkcs11Error::TokenRemoved {
                label: self.label.clone(),
                operation,
                rv: format!("{rv:?}"),
            },
            _ => Pkcs11Error::Failed {
                label: self.label.clone(),
                operation,
                detail: e.to_string(),
            },
        }
    }

    /// Generates a key pair inside the token: the private key sensitive, never extractable,
    /// stored on the token, with `CKA_ID` = its key id. Returns the opened key (self-tested).
    pub fn generate(self: &Arc<Self>, algorithm: KeyAlgorithm) -> Result<Pkcs11Key, Pkcs11Error> {
        let (mechanism, key_type, params): (Mechanism<'_>, KeyType, &[u8]) = match algorithm {
            KeyAlgorithm::EcdsaP256Sha256 => (Mechanism::EccKeyPairGen, KeyType::EC, &P256_PARAMS),
            KeyAlgorithm::Ed25519 => (
                Mechanism::EccEdwardsKeyPairGen,
                KeyType::EC_EDWARDS,
                &ED25519_PARAMS,
            ),
        };
        // The id is only known once the public key is: generate with a temporary random id,
        // then set the real one on both halves.
        let temporary: [u8; 16] = rand::random();
        let (public, private) = self.with_session("generating a key", |s| {
            s.generate_key_pair(
                &mechanism,
                &[
                    Attribute::Token(true),
                    Attribute::Private(false),
                    Attribute::Verify(true),
                    Attribute::KeyType(key_type),
                    Attribute::EcParams(params.to_vec()),
                    Attribute::Id(temporary.to_vec()),
                ],
                &[
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Sign(true),
                    Attribute::KeyType(key_type),
                    Attribute::Id(temporary.to_vec()),
                ],
            )
        })?;
        let point = self.ec_point(public)?;
        let id = key_id_bytes(&point);
        self.with_session("labelling the new key", |s| {
            s.update_attributes(public, &[Attribute::Id(id.to_vec())])?;
            s.update_attributes(private, &[Attribute::Id(id.to_vec())])
        })?;
        self.open_key(&id, algorithm)
    }

    /// The raw public key (EC point or Ed25519 bytes) of a public-key object.
    fn ec_point(&self, public: ObjectHandle) -> Result<Vec<u8>, Pkcs11Error> {
        let attributes = self.with_session("reading a public key", |s| {
            s.get_attributes(public, &[AttributeType::EcPoint])
        })?;
        let Some(Attribute::EcPoint(point)) = attributes.into_iter().next() else {
            return Err(Pkcs11Error::Failed {
                label: self.label.clone(),
                operation: "reading a public key",
                detail: "no CKA_EC_POINT".into(),
            });
        };
        // PKCS#11 wraps the point in a DER OCTET STRING; some modules give it bare.
        Ok(unwrap_octet_string(&point).unwrap_or(point))
    }

    fn find(&self, class: ObjectClass, id: &[u8]) -> Result<Vec<ObjectHandle>, Pkcs11Error> {
        self.with_session("finding a key", |s| {
            s.find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])
        })
    }

    /// Opens the key with id `key_id` and runs a sign-and-verify self-test.
    pub fn open_key(
        self: &Arc<Self>,
        key_id: &[u8; KEY_ID_LEN],
        algorithm: KeyAlgorithm,
    ) -> Result<Pkcs11Key, Pkcs11Error> {
        let key_id_hex = hex::encode(key_id);
        let one = |handles: Vec<ObjectHandle>| match handles.as_slice() {
            [] => Err(Pkcs11Error::KeyNotFound {
                label: self.label.clone(),
                key_id: key_id_hex.clone(),
            }),
            [handle] => Ok(*handle),
            more => Err(Pkcs11Error::AmbiguousKey {
                label: self.label.clone(),
                key_id: key_id_hex.clone(),
                count: more.len(),
            }),
        };
        let private = one(self.find(ObjectClass::PRIVATE_KEY, key_id)?)?;
        let public = one(self.find(ObjectClass::PUBLIC_KEY, key_id)?)?;
        let point = self.ec_point(public)?;
        let self_test = |detail: String| Pkcs11Error::SelfTest {
            label: self.label.clone(),
            key_id: key_id_hex.clone(),
            detail,
        };
        if key_id_bytes(&point) != *key_id {
            return Err(self_test("its public key does not hash to its id".into()));
        }
        let spki_der = match algorithm {
            KeyAlgorithm::EcdsaP256Sha256 => crate::x509::p256_spki_der(&point),
            KeyAlgorithm::Ed25519 => super::ed25519_spki_der(&point),
        }
        .map_err(|e| self_test(e.to_string()))?;
        let key = Pkcs11Key {
            token: Arc::clone(self),
            private,
            algorithm,
            point,
            spki_der,
            key_id_hex: key_id_hex.clone(),
        };
        key.self_test()?;
        Ok(key)
    }
}

/// The contents of a DER OCTET STRING (short or long form length), if `der` is one.
fn unwrap_octet_string(der: &[u8]) -> Option<Vec<u8>> {
    let (&tag, rest) = der.split_first()?;
    if tag != 0x04 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, body) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => {
            let (&len, body) = rest.split_first()?;
            (usize::from(len), body)
        }
        _ => return None,
    };
    (body.len() == len).then(|| body.to_vec())
}

/// A private key in a token.
pub struct Pkcs11Key {
    token: Arc<Token>,
    private: ObjectHandle,
    algorithm: KeyAlgorithm,
    point: Vec<u8>,
    spki_der: Vec<u8>,
    key_id_hex: String,
}

impl std::fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("token", &self.token.label)
            .field("key_id", &self.key_id_hex)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Key {
    /// The key id, hex.
    pub fn key_id_hex(&self) -> &str {
        &self.key_id_hex
    }

    /// The token holding the key.
    pub fn token(&self) -> &Arc<Token> {
        &self.token
    }

    /// Signs a fixed message and verifies it with the public key, so a key whose halves do
    /// not match, or a module that signs wrongly, is caught at start-up.
    fn self_test(&self) -> Result<(), Pkcs11Error> {
        let message = b"ccr pkcs11 self-test";
        let signature = self.sign_raw(message)?;
        let verifier: &dyn ring::signature::VerificationAlgorithm = match self.algorithm {
            KeyAlgorithm::EcdsaP256Sha256 => &ring::signature::ECDSA_P256_SHA256_FIXED,
            KeyAlgorithm::Ed25519 => &ring::signature::ED25519,
        };
        ring::signature::UnparsedPublicKey::new(verifier, &self.point)
            .verify(message, &signature)
            .map_err(|_| Pkcs11Error::SelfTest {
                label: self.token.label.clone(),
                key_id: self.key_id_hex.clone(),
                detail: "the signature does not verify with the key's public key".into(),
            })
    }

    /// The raw signature: `r || s` for P-256 (over the SHA-256 computed here), `R || S`
    /// for Ed25519.
    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        match self.algorithm {
            KeyAlgorithm::EcdsaP256Sha256 => {
                let digest = ring::digest::digest(&ring::digest::SHA256, message);
                self.token.with_session("signing", |s| {
                    s.sign(&Mechanism::Ecdsa, self.private, digest.as_ref())
                })
            }
            KeyAlgorithm::Ed25519 => self.token.with_session("signing", |s| {
                s.sign(
                    &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                    self.private,
                    message,
                )
            }),
        }
    }
}

impl Signer for Pkcs11Key {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key_spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    fn sign(&self, message: &[u8], encoding: SignatureEncoding) -> Result<Vec<u8>, crate::Error> {
        let raw = self.sign_raw(message)?;
        match (self.algorithm, encoding) {
            (KeyAlgorithm::EcdsaP256Sha256, SignatureEncoding::Der) => fixed_to_der(&raw),
            _ => Ok(raw),
        }
    }
}

/// DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3) of a fixed-width P-256 `r || s`.
pub fn fixed_to_der(raw: &[u8]) -> Result<Vec<u8>, crate::Error> {
    if raw.len() != 64 {
        return Err(crate::Error::Key(format!(
            "a P-256 signature has 64 bytes, not {}",
            raw.len()
        )));
    }
    let integer = |half: &[u8]| {
        let trimmed = match half.iter().position(|&b| b != 0) {
            Some(i) => &half[i..],
            None => &half[half.len() - 1..],
        };
        let mut out = vec![0x02];
        // A leading 1 bit would read as negative: prefix a zero byte.
        let pad = trimmed[0] & 0x80 != 0;
        out.push(u8::try_from(trimmed.len() + usize::from(pad)).unwrap_or(u8::MAX));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(trimmed);
        out
    };
    let (r, s) = raw.split_at(32);
    let body = [integer(r), integer(s)].concat();
    let mut der = vec![0x30, u8::try_from(body.len()).unwrap_or(u8::MAX)];
    der.extend_from_slice(&body);
    Ok(der)
}

impl From<Pkcs11Error> for crate::Error {
    fn from(e: Pkcs11Error) -> Self {
        crate::Error::Pkcs11(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    //! SoftHSM2 reads `SOFTHSM2_CONF` once, at `C_Initialize`, and setting a variable in the
    //! test process would need `unsafe`; so each outer test makes a configuration and tokens,
    //! then runs its `child_*` twin in a child process with the variable set.
    use super::*;

    const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
    const PIN: &str = "1234";

    fn softhsm_present() -> bool {
        let found = Path::new(MODULE).is_file()
            && std::process::Command::new("softhsm2-util")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var_os("CCR_REQUIRE_ORACLES").is_none(),
                "softhsm2 is required (CCR_REQUIRE_ORACLES is set)"
            );
        }
        found
    }

    /// Makes tokens `labels` in a fresh SoftHSM2 configuration and runs `child` with it.
    fn run_child(outer: &str, child: &str, labels: &[&str]) {
        if !softhsm_present() {
            println!("SKIP {outer}: softhsm2 not found");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token dir");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("conf");
        for label in labels {
            let out = std::process::Command::new("softhsm2-util")
                .env("SOFTHSM2_CONF", &conf)
                .args(["--init-token", "--free", "--label", label])
                .args(["--pin", PIN, "--so-pin", "5678"])
                .output()
                .expect("softhsm2-util");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let out = std::process::Command::new(std::env::current_exe().expect("exe"))
            .env("SOFTHSM2_CONF", &conf)
            .env("CCR_PKCS11_CHILD", "1")
            .args(["--ignored", "--exact", "--nocapture"])
            .arg(format!("signer::pkcs11::tests::{child}"))
            .output()
            .expect("child test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{child}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pin() -> AuthPin {
        AuthPin::from(PIN.to_owned())
    }

    fn child_guard() {
        assert!(
            std::env::var_os("CCR_PKCS11_CHILD").is_some(),
            "run by its outer test, which sets SOFTHSM2_CONF"
        );
    }

    #[test]
    fn fixed_to_der_verifies_with_ring() {
        let (key, _) = super::super::FileKey::generate().expect("key");
        for message in [&b"a"[..], b"bb", b"ccc", b"dddd"] {
            let fixed = key.sign(message, SignatureEncoding::Fixed).expect("sign");
            let der = fixed_to_der(&fixed).expect("der");
            let point = crate::x509::spki_ec_point(key.public_key_spki_der()).expect("point");
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_ASN1,
                point,
            )
            .verify(message, &der)
            .expect("DER form verifies");
        }
        assert!(fixed_to_der(&[1; 63]).is_err());
    }

    #[test]
    fn pkcs11_keys_sign_and_verify() {
        run_child(
            "pkcs11_keys_sign_and_verify",
            "child_sign_and_verify",
            &["ccr"],
        );
    }

    #[test]
    #[ignore = "run by pkcs11_keys_sign_and_verify with SOFTHSM2_CONF set"]
    fn child_sign_and_verify() {
        child_guard();
        let token = Token::open(Path::new(MODULE), "ccr", &pin()).expect("open");
        let p256 = token.generate(KeyAlgorithm::EcdsaP256Sha256).expect("p256");
        let point = crate::x509::spki_ec_point(p256.public_key_spki_der()).expect("point");
        assert_eq!(p256.key_id_hex(), hex::encode(key_id_bytes(&point)));
        let der = p256.sign(b"msg", SignatureEncoding::Der).expect("der");
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, &point)
            .verify(b"msg", &der)
            .expect("DER verifies");
        let ed = token.generate(KeyAlgorithm::Ed25519).expect("ed25519");
        let sig = ed.sign(b"msg", SignatureEncoding::Fixed).expect("ed sig");
        let raw = &ed.public_key_spki_der()[12..];
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, raw)
            .verify(b"msg", &sig)
            .expect("Ed25519 verifies");
        // The private key stays in the token: sensitive, never extractable.
        let id = key_id_bytes(&point);
        let private = token.find(ObjectClass::PRIVATE_KEY, &id).expect("find")[0];
        let attrs = token
            .with_session("reading", |s| {
                s.get_attributes(
                    private,
                    &[
                        AttributeType::Sensitive,
                        AttributeType::Extractable,
                        AttributeType::Token,
                    ],
                )
            })
            .expect("attributes");
        assert!(
            attrs
                .iter()
                .any(|a| matches!(a, Attribute::Sensitive(true))),
            "{attrs:?}"
        );
        assert!(
            attrs
                .iter()
                .any(|a| matches!(a, Attribute::Extractable(false))),
            "{attrs:?}"
        );
        assert!(
            attrs.iter().any(|a| matches!(a, Attribute::Token(true))),
            "{attrs:?}"
        );
        // Opened again by id (as at start-up), with the same public key.
        let again = token
            .open_key(&id, KeyAlgorithm::EcdsaP256Sha256)
            .expect("reopen");
        assert_eq!(again.public_key_spki_der(), p256.public_key_spki_der());
        // Many signers at once share the session pool.
        let key = Arc::new(again);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let key = Arc::clone(&key);
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        key.sign(b"x", SignatureEncoding::Fixed).expect("sign");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
    }

    #[test]
    fn pkcs11_faults_are_typed() {
        run_child("pkcs11_faults_are_typed", "child_faults", &["ccr", "other"]);
    }

    #[test]
    #[ignore = "run by pkcs11_faults_are_typed with SOFTHSM2_CONF set"]
    fn child_faults() {
        child_guard();
        let module = Path::new(MODULE);
        let missing = Token::open(Path::new("/nonexistent/libpkcs11.so"), "ccr", &pin());
        assert!(
            matches!(missing, Err(Pkcs11Error::ModuleMissing { .. })),
            "{missing:?}"
        );
        let absent = Token::open(module, "no-such-token", &pin());
        assert!(
            matches!(absent, Err(Pkcs11Error::TokenNotFound { .. })),
            "{absent:?}"
        );
        let wrong = Token::open(module, "other", &AuthPin::from("9999".to_owned()));
        assert!(
            matches!(wrong, Err(Pkcs11Error::WrongPin { .. })),
            "{wrong:?}"
        );

        let token = Token::open(module, "ccr", &pin()).expect("open");
        let unknown = token.open_key(&[7; KEY_ID_LEN], KeyAlgorithm::EcdsaP256Sha256);
        assert!(
            matches!(unknown, Err(Pkcs11Error::KeyNotFound { .. })),
            "{unknown:?}"
        );

        // Two keys given the same id: refused, never one of them picked.
        let first = token
            .generate(KeyAlgorithm::EcdsaP256Sha256)
            .expect("first");
        let second = token
            .generate(KeyAlgorithm::EcdsaP256Sha256)
            .expect("second");
        let id: [u8; KEY_ID_LEN] = hex::decode(first.key_id_hex())
            .expect("hex")
            .try_into()
            .expect("8");
        let second_id = hex::decode(second.key_id_hex()).expect("hex");
        let handles = token
            .find(ObjectClass::PRIVATE_KEY, &second_id)
            .expect("find");
        token
            .with_session("relabel", |s| {
                s.update_attributes(handles[0], &[Attribute::Id(id.to_vec())])
            })
            .expect("relabel");
        let twice = token.open_key(&id, KeyAlgorithm::EcdsaP256Sha256);
        assert!(
            matches!(twice, Err(Pkcs11Error::AmbiguousKey { count: 2, .. })),
            "{twice:?}"
        );

        // The token is logged out under an open key (as after a reset or re-insertion): a
        // typed error, no signature.
        let other = Token::open(module, "other", &pin()).expect("other");
        let key = other.generate(KeyAlgorithm::EcdsaP256Sha256).expect("key");
        key.sign(b"before", SignatureEncoding::Der)
            .expect("signs before");
        other._login.lock().expect("lock").logout().expect("logout");
        let gone = key
            .sign(b"after", SignatureEncoding::Der)
            .expect_err("token gone");
        assert!(
            matches!(&gone, crate::Error::Pkcs11(e) if matches!(**e, Pkcs11Error::TokenRemoved { .. })),
            "{gone:?}"
        );
    }
}
