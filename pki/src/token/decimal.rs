//! The token URL's decimal fragment (SPEC §4).
//!
//! The COSE_Sign1 bytes are split into groups of 7 (the last may be shorter). A full group,
//! read as a big-endian unsigned integer, is written as exactly 17 digits; a last group of
//! n = 1…6 bytes as exactly 3, 5, 8, 10, 13 or 15 digits (the fewest digits that hold any
//! n-byte value). The digits go into the QR code's numeric segment: 10 bits per 3 digits,
//! about 8.1 bits per token byte instead of 10.7 for base64url in byte mode.

use crate::Error;
use crate::cose::err;

/// Bytes per full group.
const GROUP_BYTES: usize = 7;

/// Digits for a group of `n` bytes (index `n`): the number of decimal digits of `256^n - 1`.
const DIGITS_FOR_BYTES: [usize; GROUP_BYTES + 1] = [0, 3, 5, 8, 10, 13, 15, 17];

/// Appends the decimal form of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len() / GROUP_BYTES * 17 + 17);
    for group in bytes.chunks(GROUP_BYTES) {
        let value = group.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let width = DIGITS_FOR_BYTES[group.len()];
        out.push_str(&format!("{value:0width$}"));
    }
}

/// The decimal form of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    encode_into(bytes, &mut out);
    out
}

/// Decodes a decimal fragment strictly: only ASCII digits, a length whose remainder mod 17 is
/// a valid last-group width, every group's value within its bytes, at most `max_bytes` bytes
/// of output. Empty input is refused.
pub fn decode(digits: &str, max_bytes: usize) -> Result<Vec<u8>, Error> {
    if digits.is_empty() {
        return Err(err("decimal token: empty"));
    }
    if let Some(pos) = digits.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(err(format!(
            "decimal token: character {} is not a digit",
            pos + 1
        )));
    }
    let full = digits.len() / 17;
    let rest = digits.len() % 17;
    let last_bytes = DIGITS_FOR_BYTES
        .iter()
        .position(|&d| d == rest)
        .filter(|&n| n < GROUP_BYTES)
        .ok_or_else(|| {
            err(format!(
                "decimal token: length {} is not a valid token length (remainder {rest} mod 17)",
                digits.len()
            ))
        })?;
    let len = full * GROUP_BYTES + last_bytes;
    if len > max_bytes {
        return Err(err(format!(
            "decimal token: {len} bytes exceed {max_bytes}"
        )));
    }
    let mut out = Vec::with_capacity(len);
    let mut start = 0;
    for (index, n) in std::iter::repeat_n(GROUP_BYTES, full)
        .chain((last_bytes > 0).then_some(last_bytes))
        .enumerate()
    {
        let width = DIGITS_FOR_BYTES[n];
        let group = &digits[start..start + width];
        start += width;
        // Up to 17 digits: at most 10^17 - 1, within u64.
        let value: u64 = group
            .parse()
            .map_err(|_| err(format!("decimal token: group {} unreadable", index + 1)))?;
        if value >> (8 * n) != 0 {
            return Err(err(format!(
                "decimal token: group {} ({group}) is too large for {n} bytes",
                index + 1
            )));
        }
        out.extend_from_slice(&value.to_be_bytes()[8 - n..]);
    }
    Ok(out)
}

/// Whether `fragment` is meant as decimal (all ASCII digits), as opposed to base64url.
pub fn is_decimal(fragment: &str) -> bool {
    !fragment.is_empty() && fragment.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_the_fewest_digits_for_each_group_size() {
        for (n, &digits) in DIGITS_FOR_BYTES.iter().enumerate().skip(1) {
            let max = (1u64 << (8 * n)) - 1;
            assert_eq!(digits, max.to_string().len(), "{n} bytes");
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(encode(&[]), "");
        assert_eq!(encode(&[0]), "000");
        assert_eq!(encode(&[255]), "255");
        assert_eq!(encode(&[1, 0]), "00256");
        assert_eq!(encode(&[0xff; 7]), "72057594037927935");
        assert_eq!(encode(&[0xff; 8]), "72057594037927935255");
        assert_eq!(
            decode("72057594037927935255", 16).expect("decodes"),
            [0xff; 8]
        );
    }

    #[test]
    fn refuses_bad_input_with_a_clear_error() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("1234", "length 4"),
            ("000000000000000001", "length 18"),
            ("256", "too large for 1 bytes"),
            ("65536", "too large for 2 bytes"),
            ("72057594037927936", "too large for 7 bytes"),
            ("99999999999999999", "too large for 7 bytes"),
            ("12a", "character 3 is not a digit"),
            ("-12", "character 1 is not a digit"),
            (" 123", "character 1 is not a digit"),
            ("１２３", "character 1 is not a digit"),
        ];
        for (input, expected) in cases {
            let e = decode(input, 100).expect_err(input).to_string();
            assert!(e.contains(expected), "{input:?}: {e}");
        }
        let oversized = "0".repeat(17 * 10);
        let e = decode(&oversized, 69).expect_err("oversized").to_string();
        assert!(e.contains("70 bytes exceed 69"), "{e}");
        assert_eq!(decode(&oversized, 70).expect("fits").len(), 70);
    }

    proptest::proptest! {
        /// Property: encode then decode gives back any byte string (up to twice the token
        /// limit), and the encoding has exactly the specified length.
        #[test]
        fn encode_then_decode_round_trips_any_byte_string(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 1..4096)
        ) {
            let digits = encode(&bytes);
            proptest::prop_assert_eq!(
                digits.len(),
                bytes.len() / 7 * 17 + DIGITS_FOR_BYTES[bytes.len() % 7]
            );
            proptest::prop_assert!(is_decimal(&digits));
            proptest::prop_assert_eq!(decode(&digits, bytes.len()).ok(), Some(bytes.clone()));
            // One byte fewer allowed: refused as oversized, never truncated.
            proptest::prop_assert!(decode(&digits, bytes.len() - 1).is_err());
        }

        /// Property: the decoder never panics on any text, and whatever it accepts re-encodes
        /// to the same digits (the encoding is canonical).
        #[test]
        fn decode_never_panics_and_accepts_only_canonical_digits(text in "[0-9]{0,80}|\\PC{0,40}") {
            if let Ok(bytes) = decode(&text, 64) {
                proptest::prop_assert_eq!(encode(&bytes), text);
            }
        }
    }

    /// encode → decode is the identity on random byte strings of every length up to 300
    /// (seeded, so failures reproduce), and encoding has the specified length.
    #[test]
    fn round_trips_random_byte_strings() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        for round in 0..3000 {
            let len = round % 301;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match next() % 4 {
                    0 => 0,
                    1 => 0xff,
                    _ => (next() >> 24) as u8,
                })
                .collect();
            let digits = encode(&bytes);
            assert_eq!(
                digits.len(),
                len / 7 * 17 + DIGITS_FOR_BYTES[len % 7],
                "length for {len} bytes"
            );
            assert!(is_decimal(&digits) || bytes.is_empty());
            assert_eq!(
                decode(&digits, 300).ok(),
                (!bytes.is_empty()).then_some(bytes)
            );
        }
    }
}
