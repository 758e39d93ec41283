//! The staff's and department users' second factor: time-based one-time passwords
//! (RFC 6238 over RFC 4226's HOTP, HMAC-SHA-1, 6 digits, 30-second steps), the form every
//! authenticator app reads from an `otpauth://` URI.
//!
//! A code is accepted for the current step or one step either side (phones drift), and only
//! for a step later than the last one accepted for the account, so a code seen over a
//! shoulder or in a log cannot be used again.

use base64::Engine as _;
use rand::Rng as _;
use time::OffsetDateTime;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one.
pub const DRIFT_STEPS: i64 = 1;
/// Bytes of a secret (160 bits, RFC 4226's recommendation for HMAC-SHA-1).
pub const SECRET_BYTES: usize = 20;

/// An account's shared secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        let bytes: [u8; SECRET_BYTES] = rand::rng().random();
        Self(bytes.to_vec())
    }

    /// The stored form (base64url).
    pub fn stored(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.0)
    }

    /// From the stored form.
    pub fn from_stored(text: &str) -> Option<Self> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .filter(|b| b.len() >= 16)
            .map(Self)
    }

    /// From raw bytes (test vectors).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// The secret as authenticator apps take it typed: base32 without padding, in groups of
    /// four for reading aloud.
    pub fn base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.0)
    }

    /// From the typed form ([`Self::base32`]; spaces and case ignored).
    pub fn from_base32(text: &str) -> Option<Self> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        data_encoding::BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .ok()
            .filter(|b| b.len() >= 16)
            .map(Self)
    }

    /// The enrolment URI (Key URI Format) an authenticator app reads from a QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let label = format!("{issuer}:{account}");
        format!(
            "otpauth://totp/{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            percent(&label),
            self.base32(),
            percent(issuer)
        )
    }

    /// The code of time step `step`.
    pub fn code_at(&self, step: i64) -> u32 {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let tag = ring::hmac::sign(&key, &step.to_be_bytes());
        let mac = tag.as_ref();
        // RFC 4226 §5.3, dynamic truncation.
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        let binary = u32::from_be_bytes([
            mac[offset] & 0x7f,
            mac[offset + 1],
            mac[offset + 2],
            mac[offset + 3],
        ]);
        binary % 10u32.pow(DIGITS)
    }

    /// The code for the instant `now`, as typed (zero-padded).
    pub fn code_now(&self, now: OffsetDateTime) -> String {
        format!(
            "{:0width$}",
            self.code_at(step_of(now)),
            width = DIGITS as usize
        )
    }

    /// The step a typed `code` matches at `now`, if it is within the drift window and later
    /// than `last_used` (the last step accepted for this account).
    pub fn accepts(&self, code: &str, now: OffsetDateTime, last_used: Option<i64>) -> Option<i64> {
        let code = code.trim().replace([' ', '-'], "");
        if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let typed: u32 = code.parse().ok()?;
        let current = step_of(now);
        let mut matched = None;
        // Every candidate is computed, so the time taken does not say which one matched.
        for step in current - DRIFT_STEPS..=current + DRIFT_STEPS {
            if self.code_at(step) == typed && last_used.is_none_or(|last| step > last) {
                matched = matched.or(Some(step));
            }
        }
        matched
    }
}

/// The time step of an instant.
pub fn step_of(now: OffsetDateTime) -> i64 {
    now.unix_timestamp().div_euclid(STEP_SECONDS)
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (its 8-digit codes; ours are their last 6 digits).
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = Secret::from_bytes(b"12345678901234567890");
        for (time, eight) in [
            (59_i64, 94_287_082_u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(
                secret.code_at(time.div_euclid(STEP_SECONDS)),
                eight % 1_000_000,
                "T = {time}"
            );
        }
    }

    #[test]
    fn codes_are_accepted_once_within_the_drift_window() {
        let secret = Secret::generate();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_015).expect("instant");
        let code = secret.code_now(now);
        let step = secret.accepts(&code, now, None).expect("current code");
        assert_eq!(step, step_of(now));
        assert_eq!(secret.accepts(&code, now, Some(step)), None, "replayed");
        let earlier = secret.code_at(step - 1);
        assert!(
            secret
                .accepts(&format!("{earlier:06}"), now, None)
                .is_some()
        );
        let too_old = secret.code_at(step - 2);
        assert_eq!(secret.accepts(&format!("{too_old:06}"), now, None), None);
        assert_eq!(secret.accepts("12345", now, None), None);
        assert_eq!(secret.accepts("abcdef", now, None), None);
        assert_eq!(secret.accepts("", now, None), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(secret.accepts(&spaced, now, None).is_some());
    }

    #[test]
    fn the_enrolment_uri_names_issuer_and_account() {
        let secret = Secret::from_bytes(b"12345678901234567890");
        let uri = secret.otpauth_uri("DSI CCR", "clerk");
        assert_eq!(
            uri,
            "otpauth://totp/DSI%20CCR%3Aclerk?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=DSI%20CCR&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            Secret::from_stored(&secret.stored()).expect("stored form"),
            secret,
            "stored form round-trips"
        );
        assert_eq!(
            Secret::from_base32(&secret.base32().to_lowercase()).expect("typed form"),
            secret
        );
        assert!(!format!("{secret:?}").contains("MTIz"));
    }
}
