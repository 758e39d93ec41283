//! Pluggable outside services: face matching, SMS delivery and the payment gateway. The
//! built-in implementations are for development and tests; each says so.

use ring::hmac;

use crate::store::outbox::OutboxEntry;

/// Time allowed for one webhook delivery.
const WEBHOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What a face check concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaceOutcome {
    /// The live image matches the identity on record.
    Match,
    /// It does not (the applicant may try again or apply at a counter).
    NoMatch(String),
}

/// A face-match service.
pub trait FaceMatcher: Send + Sync + std::fmt::Debug {
    /// Compares a live image with the photograph on record for the holder's identity
    /// document (never with the signed-in account: one may apply for a document that is not
    /// one's own only if one's face matches it).
    fn check(
        &self,
        holder: &ccr_pki::document::IdentityDocument,
        image: &[u8],
    ) -> Result<FaceOutcome, String>;
}

/// DEVELOPMENT face matcher: any JPEG or PNG image matches. It exists so that the embedded
/// default runs without a biometric service; never configure it in production.
#[derive(Debug, Default)]
pub struct DevelopmentFaceMatcher;

impl FaceMatcher for DevelopmentFaceMatcher {
    fn check(
        &self,
        _holder: &ccr_pki::document::IdentityDocument,
        image: &[u8],
    ) -> Result<FaceOutcome, String> {
        let jpeg = image.starts_with(&[0xFF, 0xD8, 0xFF]);
        let png = image.starts_with(b"\x89PNG\r\n\x1a\n");
        if jpeg || png {
            Ok(FaceOutcome::Match)
        } else {
            Ok(FaceOutcome::NoMatch(
                "the image is not a JPEG or PNG photograph".into(),
            ))
        }
    }
}

/// Delivers outbox messages of one channel.
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Sends one message; an error is retried later.
    fn deliver(&self, message: &OutboxEntry) -> Result<(), String>;
}

/// DEVELOPMENT transport: messages are marked delivered and stay readable in the outbox
/// (`GET /api/v1/dev/outbox`).
#[derive(Debug, Default)]
pub struct OutboxOnly;

impl Transport for OutboxOnly {
    fn deliver(&self, _message: &OutboxEntry) -> Result<(), String> {
        Ok(())
    }
}

/// Posts each message as JSON to an SMS (or messaging) gateway's URL.
#[derive(Debug)]
pub struct Webhook {
    url: String,
}

impl Webhook {
    /// A transport posting to `url`.
    pub fn new(url: &str) -> Self {
        Self { url: url.into() }
    }
}

impl Transport for Webhook {
    fn deliver(&self, m: &OutboxEntry) -> Result<(), String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(WEBHOOK_TIMEOUT))
            .build()
            .into();
        let body = serde_json::json!({
            "to": m.recipient, "language": m.language, "subject": m.subject, "text": m.body,
        });
        agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body.to_string().as_bytes())
            .map(|_| ())
            .map_err(|e| format!("webhook: {e}"))
    }
}

/// Why a gateway callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// No or malformed signature header.
    #[error("the callback carries no valid signature header")]
    MissingSignature,
    /// The signature does not match the body.
    #[error("the callback signature does not match")]
    BadSignature,
    /// Signed too long ago or in the future (replay window).
    #[error("the callback timestamp is outside the accepted window")]
    Stale,
}

/// The built-in SANDBOX payment gateway's shared secret: it signs callbacks the way a real
/// gateway does (HMAC-SHA256 over `timestamp.body`), so the callback endpoint verifies a
/// sandbox payment exactly as it would a real one.
#[derive(Debug)]
pub struct GatewaySecret {
    key: hmac::Key,
}

/// The header carrying `t=<unix seconds>,v1=<hex HMAC>`.
pub const SIGNATURE_HEADER: &str = "x-gateway-signature";

impl GatewaySecret {
    /// A secret from its bytes (at least 32).
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("the gateway secret must be at least 32 bytes".into());
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        })
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(timestamp.to_string().as_bytes());
        ctx.update(b".");
        ctx.update(body);
        ctx.sign()
    }

    /// The signature header value for `body` sent at `timestamp`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        format!(
            "t={timestamp},v1={}",
            hex::encode(self.mac(timestamp, body))
        )
    }

    /// Checks a signature header: the MAC (constant time) and the replay window.
    pub fn verify(
        &self,
        header: Option<&str>,
        body: &[u8],
        now: i64,
        tolerance_seconds: i64,
    ) -> Result<(), CallbackError> {
        let header = header.ok_or(CallbackError::MissingSignature)?;
        let mut timestamp = None;
        let mut signature = None;
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
                Some(("v1", v)) => signature = hex::decode(v).ok(),
                _ => {}
            }
        }
        let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
            return Err(CallbackError::MissingSignature);
        };
        let mut ctx_input = timestamp.to_string().into_bytes();
        ctx_input.push(b'.');
        ctx_input.extend_from_slice(body);
        hmac::verify(&self.key, &ctx_input, &signature).map_err(|_| CallbackError::BadSignature)?;
        if (now - timestamp).abs() > tolerance_seconds {
            return Err(CallbackError::Stale);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_verify_only_with_the_secret_body_and_window() {
        let secret = GatewaySecret::new(&[7u8; 32]).expect("secret");
        let body = br#"{"payment_id":"PAY-1","amount_avos":5000}"#;
        let header = secret.sign(1_000, body);
        assert_eq!(secret.verify(Some(&header), body, 1_010, 300), Ok(()));
        assert_eq!(
            secret.verify(Some(&header), b"{}", 1_010, 300),
            Err(CallbackError::BadSignature)
        );
        assert_eq!(
            secret.verify(Some(&header), body, 2_000, 300),
            Err(CallbackError::Stale)
        );
        let other = GatewaySecret::new(&[8u8; 32]).expect("secret");
        assert_eq!(
            other.verify(Some(&header), body, 1_010, 300),
            Err(CallbackError::BadSignature)
        );
        assert_eq!(
            secret.verify(None, body, 1_010, 300),
            Err(CallbackError::MissingSignature)
        );
        assert_eq!(
            secret.verify(Some("t=abc"), body, 1_010, 300),
            Err(CallbackError::MissingSignature)
        );
        assert!(GatewaySecret::new(b"short").is_err());
    }

    #[test]
    fn the_development_face_matcher_wants_a_photograph() {
        let m = DevelopmentFaceMatcher;
        let holder = ccr_pki::document::IdentityDocument::parse(
            ccr_pki::document::DocumentType::Bir,
            "1234567(8)",
        )
        .expect("document");
        assert_eq!(
            m.check(&holder, &[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok(FaceOutcome::Match)
        );
        assert!(matches!(
            m.check(&holder, b"hello"),
            Ok(FaceOutcome::NoMatch(_))
        ));
    }
}
