//! Byte-level scanning: whitespace, comments, tokens and small fixed constructs.
//!
//! Every access goes through `get`, so a hostile or truncated file can only produce errors.

use super::error::{PdfError, Result};

/// PDF white-space characters (ISO 32000-1, 7.2.2).
pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// PDF delimiter characters.
pub(crate) fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// Characters that make up keywords, numbers and name bodies.
pub(crate) fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

/// The value of an ASCII hex digit.
pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A short, printable rendering of what was found, for error messages.
pub(crate) fn describe(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "end of data".to_owned();
    }
    let shown = bytes.get(..bytes.len().min(24)).unwrap_or(bytes);
    let text: String = String::from_utf8_lossy(shown).escape_debug().collect();
    if shown.len() < bytes.len() {
        format!("\"{text}…\"")
    } else {
        format!("\"{text}\"")
    }
}

/// A cursor over the file bytes.
#[derive(Debug, Clone)]
pub(crate) struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(data: &'a [u8], pos: usize) -> Self {
        Self { data, pos }
    }

    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    pub(crate) fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.data.get(self.pos.saturating_add(ahead)).copied()
    }

    /// Advance by `n` bytes (clamped to the end).
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.data.len());
    }

    /// The bytes from the cursor on.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> PdfError {
        PdfError::syntax(self.pos, message)
    }

    /// Skip white-space only; returns how many bytes were skipped.
    pub(crate) fn skip_whitespace(&mut self) -> usize {
        let n = self
            .rest()
            .iter()
            .take_while(|&&b| is_whitespace(b))
            .count();
        self.pos += n;
        n
    }

    /// Skip white-space and `%` comments (a comment runs to the next CR or LF).
    pub(crate) fn skip_whitespace_and_comments(&mut self) {
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'%') {
                return;
            }
            let n = self
                .rest()
                .iter()
                .take_while(|&&b| b != b'\r' && b != b'\n')
                .count();
            self.pos += n;
        }
    }

    /// The run of regular characters at the cursor (possibly empty), consumed.
    pub(crate) fn regular_token(&mut self) -> &'a [u8] {
        let rest = self.rest();
        let n = rest.iter().take_while(|&&b| is_regular(b)).count();
        self.pos += n;
        rest.get(..n).unwrap_or(&[])
    }

    /// Consume `s` if the bytes at the cursor are exactly `s`.
    pub(crate) fn eat(&mut self, s: &[u8]) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Whether the complete keyword `kw` is at the cursor (`endobj`, not `endobjx`).
    pub(crate) fn at_keyword(&self, kw: &[u8]) -> bool {
        let rest = self.rest();
        rest.starts_with(kw) && rest.get(kw.len()).is_none_or(|&b| !is_regular(b))
    }

    /// Consume one end-of-line marker (`\r\n`, `\n` or `\r`); false if none is there.
    pub(crate) fn eat_eol(&mut self) -> bool {
        self.eat(b"\r\n") || self.eat(b"\n") || self.eat(b"\r")
    }

    /// Expect the keyword `kw` as a complete token (not a prefix of a longer one).
    pub(crate) fn expect_keyword(&mut self, kw: &str) -> Result<()> {
        let start = self.pos;
        let tok = self.regular_token();
        if tok == kw.as_bytes() {
            Ok(())
        } else {
            let found = if tok.is_empty() {
                describe(self.data.get(start..).unwrap_or(&[]))
            } else {
                describe(tok)
            };
            Err(PdfError::syntax(
                start,
                format!("expected `{kw}`, found {found}"),
            ))
        }
    }

    /// An unsigned decimal integer token (digits only, no sign), consumed.
    pub(crate) fn unsigned(&mut self, what: &str) -> Result<u64> {
        let start = self.pos;
        let tok = self.regular_token();
        parse_unsigned(tok).ok_or_else(|| {
            PdfError::syntax(
                start,
                format!(
                    "expected {what} (an unsigned integer), found {}",
                    describe(tok)
                ),
            )
        })
    }
}

/// Digits only, no sign, fitting in `u64`.
pub(crate) fn parse_unsigned(tok: &[u8]) -> Option<u64> {
    if tok.is_empty() {
        return None;
    }
    tok.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}
