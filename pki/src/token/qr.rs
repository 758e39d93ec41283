//! The QR code's data bits for a token URL (SPEC §4): two segments, the URL prefix up to and
//! including `#` in byte mode, the decimal digits in numeric mode, at level M, in the smallest
//! version that holds them.

use qrcode::bits::Bits;
use qrcode::{EcLevel, Version};

use crate::Error;
use crate::cose::err;

/// The error-correction level of the certificate's QR code.
pub const EC_LEVEL: EcLevel = EcLevel::M;

/// The data bits (terminated and padded) of `url` in the smallest version at [`EC_LEVEL`].
///
/// A URL whose fragment is not all digits is written as one byte segment.
pub fn bits(url: &str) -> Result<Bits, Error> {
    let (prefix, digits) = match url.split_once('#') {
        Some((base, fragment)) if super::decimal::is_decimal(fragment) => {
            url.split_at(base.len() + 1)
        }
        _ => (url, ""),
    };
    for v in 1..=40 {
        let mut bits = Bits::new(Version::Normal(v));
        let fits = bits.push_byte_data(prefix.as_bytes()).is_ok()
            && (digits.is_empty() || bits.push_numeric_data(digits.as_bytes()).is_ok())
            && bits.push_terminator(EC_LEVEL).is_ok();
        if fits {
            return Ok(bits);
        }
    }
    Err(err(format!(
        "a URL of {} characters does not fit a QR code at level M",
        url.len()
    )))
}

/// The QR version (1–40) [`bits`] picks for `url`.
pub fn version(url: &str) -> Result<i16, Error> {
    match bits(url)?.version() {
        Version::Normal(v) | Version::Micro(v) => Ok(v),
    }
}
