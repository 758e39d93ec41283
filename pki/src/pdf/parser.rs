//! Direct-object parsing without recursion: an explicit stack of open containers, bounded by
//! `max_nesting`, so no input can overflow the call stack whatever the limits are.

use super::error::{PdfError, Result};
use super::lexer::{Lexer, describe, hex_value, is_whitespace, parse_unsigned};
use super::limits::Limits;
use super::object::{Dict, Object, ObjectId, PdfString, Span};

/// An array or dictionary being filled.
enum Frame {
    Array(Vec<Object>),
    Dict {
        entries: Vec<(Vec<u8>, Object)>,
        /// A key read and waiting for its value.
        key: Option<Vec<u8>>,
        /// Offset of `<<`, for error messages.
        start: usize,
    },
}

/// Parses objects at a lexer position under the given limits.
pub(crate) struct Parser<'a, 'l> {
    pub(crate) lex: Lexer<'a>,
    limits: &'l Limits,
}

impl<'a, 'l> Parser<'a, 'l> {
    pub(crate) fn new(lex: Lexer<'a>, limits: &'l Limits) -> Self {
        Self { lex, limits }
    }

    /// Parse one direct object (streams are handled by the caller, which sees `stream` next).
    pub(crate) fn parse_object(&mut self) -> Result<Object> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut values: u64 = 0;
        loop {
            self.lex.skip_whitespace_and_comments();
            let start = self.lex.pos();
            let Some(b) = self.lex.peek() else {
                return Err(PdfError::syntax(
                    start,
                    "unexpected end of data inside an object",
                ));
            };
            let value = match b {
                b'[' => {
                    self.lex.advance(1);
                    self.push(&mut stack, Frame::Array(Vec::new()))?;
                    continue;
                }
                b'<' if self.lex.peek_at(1) == Some(b'<') => {
                    self.lex.advance(2);
                    let frame = Frame::Dict {
                        entries: Vec::new(),
                        key: None,
                        start,
                    };
                    self.push(&mut stack, frame)?;
                    continue;
                }
                b']' => {
                    self.lex.advance(1);
                    match stack.pop() {
                        Some(Frame::Array(items)) => Object::Array(items),
                        _ => return Err(PdfError::syntax(start, "unexpected `]`")),
                    }
                }
                b'>' if self.lex.peek_at(1) == Some(b'>') => {
                    self.lex.advance(2);
                    match stack.pop() {
                        Some(Frame::Dict {
                            entries,
                            key: None,
                            start: dict_start,
                        }) => {
                            check_duplicate_keys(&entries, dict_start)?;
                            Object::Dict(Dict { entries })
                        }
                        Some(Frame::Dict { key: Some(k), .. }) => {
                            return Err(PdfError::syntax(
                                start,
                                format!("dictionary key /{} has no value", name_text(&k)),
                            ));
                        }
                        _ => return Err(PdfError::syntax(start, "unexpected `>>`")),
                    }
                }
                b'(' => Object::String(self.literal_string()?),
                b'<' => Object::String(self.hex_string()?),
                b'/' => Object::Name(self.name()?),
                b')' | b'>' | b'{' | b'}' => {
                    return Err(PdfError::syntax(
                        start,
                        format!("unexpected delimiter `{}`", char::from(b)),
                    ));
                }
                _ => self.keyword_or_number()?,
            };
            values += 1;
            if values > self.limits.max_object_values {
                return Err(PdfError::limit(
                    "values per object",
                    values,
                    self.limits.max_object_values,
                ));
            }
            match stack.last_mut() {
                None => return Ok(value),
                Some(Frame::Array(items)) => {
                    if items.len() as u64 >= self.limits.max_array_len {
                        return Err(PdfError::limit(
                            "array length",
                            items.len() as u64 + 1,
                            self.limits.max_array_len,
                        ));
                    }
                    items.push(value);
                }
                Some(Frame::Dict { entries, key, .. }) => match key.take() {
                    None => match value {
                        Object::Name(n) => *key = Some(n),
                        other => {
                            return Err(PdfError::syntax(
                                start,
                                format!("dictionary key must be a name, found a {}", other.kind()),
                            ));
                        }
                    },
                    Some(k) => {
                        if entries.len() as u64 >= self.limits.max_dict_len {
                            return Err(PdfError::limit(
                                "dictionary length",
                                entries.len() as u64 + 1,
                                self.limits.max_dict_len,
                            ));
                        }
                        entries.push((k, value));
                    }
                },
            }
        }
    }

    fn push(&self, stack: &mut Vec<Frame>, frame: Frame) -> Result<()> {
        let depth = stack.len() as u64 + 1;
        if depth > u64::from(self.limits.max_nesting) {
            return Err(PdfError::limit(
                "nesting depth",
                depth,
                self.limits.max_nesting,
            ));
        }
        stack.push(frame);
        Ok(())
    }

    fn check_len(&self, what: &'static str, len: usize) -> Result<()> {
        if len as u64 > self.limits.max_string_bytes {
            Err(PdfError::limit(what, len, self.limits.max_string_bytes))
        } else {
            Ok(())
        }
    }

    /// `( … )` with escapes, balanced parentheses and EOL normalisation.
    #[inline(never)]
    fn literal_string(&mut self) -> Result<PdfString> {
        let start = self.lex.pos();
        let data = self.lex.data();
        let mut i = start + 1;
        let mut depth: usize = 1;
        let mut out = Vec::new();
        let unterminated = || PdfError::syntax(start, "unterminated literal string");
        loop {
            let b = *data.get(i).ok_or_else(unterminated)?;
            i += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => {
                    let e = *data.get(i).ok_or_else(unterminated)?;
                    i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0C),
                        b'0'..=b'7' => {
                            // Up to three octal digits; overflow of the high digit is ignored.
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match data.get(i) {
                                    Some(&d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        i += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xFF) as u8);
                        }
                        // A backslash before an end-of-line continues the string on the next line.
                        b'\r' => {
                            if data.get(i) == Some(&b'\n') {
                                i += 1;
                            }
                        }
                        b'\n' => {}
                        // `\(`, `\)`, `\\`, and unknown escapes, whose backslash is ignored.
                        other => out.push(other),
                    }
                }
                b'\r' => {
                    out.push(b'\n');
                    if data.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                }
                other => out.push(other),
            }
            self.check_len("string length", out.len())?;
        }
        self.lex.set_pos(i);
        Ok(PdfString {
            bytes: out,
            span: Span { start, end: i },
            hex: false,
        })
    }

    /// `< … >`: hex digits and white-space; an odd final digit is padded with 0.
    /// Table-driven, one pass, two digits at a time when possible: signature `/Contents`
    /// strings are tens of kilobytes.
    #[inline(never)]
    fn hex_string(&mut self) -> Result<PdfString> {
        let start = self.lex.pos();
        let data = self.lex.data();
        let max = usize::try_from(self.limits.max_string_bytes).unwrap_or(usize::MAX);
        let too_long = |len: usize| PdfError::limit("string length", len, max);
        // Fast path for the usual unbroken run of digit pairs: count, then convert in bulk.
        let body = data.get(start + 1..).unwrap_or(&[]);
        let pair = |p: &[u8]| match p {
            &[a, b] => Some((HEX_TABLE[usize::from(a)], HEX_TABLE[usize::from(b)])),
            _ => None,
        };
        let run = body
            .chunks_exact(2)
            .take_while(|p| pair(p).is_some_and(|(a, b)| a | b < 16))
            .count()
            .min(max);
        let mut out = vec![0u8; run];
        for (o, p) in out.iter_mut().zip(body.chunks_exact(2)) {
            if let Some((a, b)) = pair(p) {
                *o = a << 4 | b;
            }
        }
        let mut high: Option<u8> = None;
        let mut i = start + 1 + 2 * run;
        loop {
            if high.is_none()
                && let Some(&[a, b]) = data.get(i..i + 2)
            {
                let (a, b) = (HEX_TABLE[usize::from(a)], HEX_TABLE[usize::from(b)]);
                if a | b < 16 {
                    if out.len() >= max {
                        return Err(too_long(out.len() + 1));
                    }
                    out.push(a << 4 | b);
                    i += 2;
                    continue;
                }
            }
            let Some(&c) = data.get(i) else {
                return Err(PdfError::syntax(start, "unterminated hex string"));
            };
            i += 1;
            match HEX_TABLE[usize::from(c)] {
                WS => {}
                CLOSE => break,
                BAD => {
                    return Err(PdfError::syntax(
                        i - 1,
                        format!("invalid character {} in hex string", describe(&[c])),
                    ));
                }
                v => match high.take() {
                    None => high = Some(v),
                    Some(h) => {
                        if out.len() >= max {
                            return Err(too_long(out.len() + 1));
                        }
                        out.push(h << 4 | v);
                    }
                },
            }
        }
        if let Some(h) = high {
            if out.len() >= max {
                return Err(too_long(out.len() + 1));
            }
            out.push(h << 4);
        }
        self.lex.set_pos(i);
        Ok(PdfString {
            bytes: out,
            span: Span { start, end: i },
            hex: true,
        })
    }

    /// `/Name` with `#xx` escapes decoded.
    fn name(&mut self) -> Result<Vec<u8>> {
        let start = self.lex.pos();
        self.lex.advance(1);
        let raw = self.lex.regular_token();
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while let Some(&b) = raw.get(i) {
            if b == b'#' {
                let hi = raw.get(i + 1).copied().and_then(hex_value);
                let lo = raw.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(h), Some(l)) if h | l != 0 => out.push(h << 4 | l),
                    _ => {
                        return Err(PdfError::syntax(
                            start + 1 + i,
                            "invalid `#` escape in name (needs two hex digits, not #00)",
                        ));
                    }
                }
                i += 3;
            } else {
                out.push(b);
                i += 1;
            }
        }
        self.check_len("name length", out.len())?;
        Ok(out)
    }

    /// Keywords (`true`, `false`, `null`), numbers, and `N G R` references.
    fn keyword_or_number(&mut self) -> Result<Object> {
        let start = self.lex.pos();
        let tok = self.lex.regular_token();
        match tok {
            b"true" => return Ok(Object::Bool(true)),
            b"false" => return Ok(Object::Bool(false)),
            b"null" => return Ok(Object::Null),
            _ => {}
        }
        if let Some(n) = parse_unsigned(tok)
            && let Some(id) = self.reference_tail(n)
        {
            return Ok(Object::Reference(id));
        }
        parse_number(tok).ok_or_else(|| {
            let what = if tok.first().is_some_and(|b| b.is_ascii_alphabetic()) {
                "unexpected keyword"
            } else {
                "invalid number"
            };
            PdfError::syntax(start, format!("{what} {}", describe(tok)))
        })
    }

    /// After an unsigned integer: if `G R` follows, consume it and return the reference;
    /// otherwise leave the cursor untouched.
    fn reference_tail(&mut self, number: u64) -> Option<ObjectId> {
        let number = u32::try_from(number).ok()?;
        let save = self.lex.pos();
        let found = (|| {
            // References are `N G R` with white-space between; anything else is two numbers.
            if !self.lex.peek().is_some_and(is_whitespace) {
                return None;
            }
            self.lex.skip_whitespace_and_comments();
            let generation = u16::try_from(parse_unsigned(self.lex.regular_token())?).ok()?;
            self.lex.skip_whitespace_and_comments();
            if self.lex.regular_token() != b"R" {
                return None;
            }
            Some(ObjectId { number, generation })
        })();
        if found.is_none() {
            self.lex.set_pos(save);
        }
        found
    }
}

/// Hex string table entries: a digit's value, white-space, `>`, or invalid.
const WS: u8 = 0xFD;
const CLOSE: u8 = 0xFE;
const BAD: u8 = 0xFF;
const HEX_TABLE: [u8; 256] = {
    let mut t = [BAD; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b'\0' | b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' => WS,
            b'>' => CLOSE,
            _ => BAD,
        };
        i += 1;
    }
    t
};

/// An integer (`[+-]digits`) or a real (`[+-]digits.digits`, either side may be empty but
/// not both). PDF has no exponent notation.
fn parse_number(tok: &[u8]) -> Option<Object> {
    let (negative, body) = match tok.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, tok),
    };
    if body.is_empty() {
        return None;
    }
    if body.iter().all(u8::is_ascii_digit) {
        let v = body.iter().try_fold(0i64, |acc, &b| {
            let d = i64::from(b - b'0');
            let acc = acc.checked_mul(10)?;
            if negative {
                acc.checked_sub(d)
            } else {
                acc.checked_add(d)
            }
        })?;
        return Some(Object::Integer(v));
    }
    let dot = body.iter().position(|&b| b == b'.')?;
    let (int_part, frac_part) = (body.get(..dot)?, body.get(dot + 1..)?);
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.iter().all(u8::is_ascii_digit)
        || !frac_part.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    // Only digits and one dot here, so this is ASCII and a valid Rust float literal.
    let text = format!(
        "{}{}.{}",
        if negative { "-" } else { "" },
        if int_part.is_empty() {
            b"0".as_slice()
        } else {
            int_part
        }
        .escape_ascii(),
        if frac_part.is_empty() {
            b"0".as_slice()
        } else {
            frac_part
        }
        .escape_ascii(),
    );
    text.parse::<f64>().ok().map(Object::Real)
}

/// Reject duplicate keys: which value a viewer would take is undefined, a classic ambiguity.
fn check_duplicate_keys(entries: &[(Vec<u8>, Object)], offset: usize) -> Result<()> {
    let duplicate = if entries.len() <= 16 {
        entries.iter().enumerate().find_map(|(i, (k, _))| {
            entries
                .get(i + 1..)
                .and_then(|rest| rest.iter().find(|(k2, _)| k2 == k))
                .map(|_| k.as_slice())
        })
    } else {
        let mut keys: Vec<&[u8]> = entries.iter().map(|(k, _)| k.as_slice()).collect();
        keys.sort_unstable();
        keys.windows(2)
            .find(|w| w.first() == w.get(1))
            .and_then(|w| w.first().copied())
    };
    match duplicate {
        Some(k) => Err(PdfError::syntax(
            offset,
            format!("duplicate key /{} in dictionary", name_text(k)),
        )),
        None => Ok(()),
    }
}

/// A name for messages.
pub(crate) fn name_text(name: &[u8]) -> String {
    String::from_utf8_lossy(name.get(..name.len().min(64)).unwrap_or(name)).into_owned()
}
