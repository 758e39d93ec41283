//! The one canonical form of identity-document numbers.
//!
//! A document number is the key under which the bureau finds a person's criminal record, so two
//! spellings that a person reads as the same number must give the same key, and a spelling that
//! merely *looks* like a number (fullwidth digits, Arabic-Indic digits, Cyrillic or Greek
//! look-alike letters, combining marks, zero-width characters) must never be accepted: it would
//! give another key, and a recorded person a clean certificate.
//!
//! Each document type therefore has an explicit ASCII alphabet, and everything outside it is
//! refused (never silently dropped or folded). The only foldings allowed are ones a person sees
//! in the printed result, and they are applied identically to the applicant's input, to record
//! entries and to every lookup, because all of them call [`IdentityDocument::parse`]:
//!
//! | type | accepted | canonical (printed) |
//! |---|---|---|
//! | `BIR` | 7 ASCII digits and a check digit, the check digit in ASCII parentheses or not; ASCII spaces anywhere | `1234567(8)` |
//! | `TI` | 6 to 9 ASCII digits and a check digit, likewise | `9123456(7)` |
//! | `PASSPORT` | 5 to 15 ASCII letters and digits, either case; ASCII spaces anywhere | upper case, no spaces: `CB123456` |

use crate::document::{DocumentType, IdentityDocument};

/// Longest input looked at, in bytes: anything longer is refused before it is scanned.
pub const MAX_INPUT_BYTES: usize = 64;

/// Why a document number was refused. The messages name the offending character by code
/// point, so a person can see what the form could not.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DocumentNumberError {
    /// Nothing but spaces.
    #[error("is empty")]
    Empty,
    /// Longer than [`MAX_INPUT_BYTES`].
    #[error("is longer than {MAX_INPUT_BYTES} bytes")]
    TooLong,
    /// A character outside the type's alphabet (a fullwidth or non-ASCII digit, a look-alike
    /// letter, a combining mark, an invisible character…).
    #[error(
        "contains {character:?} (U+{code:04X}), which is not allowed in a {kind} number: {alphabet}"
    )]
    Character {
        /// The document type's code.
        kind: &'static str,
        /// The character refused.
        character: char,
        /// Its code point.
        code: u32,
        /// The allowed alphabet, in words.
        alphabet: &'static str,
    },
    /// Right characters, wrong shape.
    #[error("{number:?} is not a {kind} number: {expected}")]
    Shape {
        /// The document type's code.
        kind: &'static str,
        /// The input with spaces removed (ASCII only, so safe to show).
        number: String,
        /// The expected shape, in words.
        expected: &'static str,
    },
}

impl DocumentType {
    /// The alphabet of this type's numbers, in words.
    fn alphabet(self) -> &'static str {
        match self {
            Self::Bir | Self::Ti => {
                "ASCII digits 0-9, with the check digit in ASCII parentheses ( )"
            }
            Self::Passport => "ASCII letters A-Z and digits 0-9",
        }
    }

    /// The expected shape, in words.
    fn shape(self) -> &'static str {
        match self {
            Self::Bir => "7 digits and a check digit, as in 1234567(8)",
            Self::Ti => "6 to 9 digits and a check digit, as in 9123456(7)",
            Self::Passport => "5 to 15 letters and digits",
        }
    }

    /// How many digits may precede the check digit.
    fn body_digits(self) -> std::ops::RangeInclusive<usize> {
        match self {
            Self::Bir => 7..=7,
            Self::Ti => 6..=9,
            Self::Passport => 0..=0,
        }
    }

    fn allows(self, c: char) -> bool {
        match self {
            Self::Bir | Self::Ti => c.is_ascii_digit() || c == '(' || c == ')',
            Self::Passport => c.is_ascii_alphanumeric(),
        }
    }
}

impl IdentityDocument {
    /// Parses a document number as typed (by an applicant, an officer or an operator) into its
    /// canonical form. This is the only way the issuer makes an [`IdentityDocument`] from
    /// input, so an application and a record entry for the same person always agree.
    pub fn parse(kind: DocumentType, input: &str) -> Result<Self, DocumentNumberError> {
        if input.len() > MAX_INPUT_BYTES {
            return Err(DocumentNumberError::TooLong);
        }
        let mut compact = String::with_capacity(input.len());
        for c in input.chars() {
            if c == ' ' {
                continue;
            }
            if !kind.allows(c) {
                return Err(DocumentNumberError::Character {
                    kind: kind.code(),
                    character: c,
                    code: u32::from(c),
                    alphabet: kind.alphabet(),
                });
            }
            compact.push(c.to_ascii_uppercase());
        }
        if compact.is_empty() {
            return Err(DocumentNumberError::Empty);
        }
        let shape_error = || DocumentNumberError::Shape {
            kind: kind.code(),
            number: compact.clone(),
            expected: kind.shape(),
        };
        let number = match kind {
            DocumentType::Passport => {
                if !(5..=15).contains(&compact.len()) {
                    return Err(shape_error());
                }
                compact.clone()
            }
            DocumentType::Bir | DocumentType::Ti => {
                // Either `<digits>(<d>)` or `<digits><d>`: the same number, printed with
                // the parentheses.
                let (body, check) = match compact.strip_suffix(')') {
                    Some(open) => {
                        let (body, check) = open.split_at(open.len().saturating_sub(2));
                        let check = check.strip_prefix('(').ok_or_else(shape_error)?;
                        (body, check)
                    }
                    None => compact.split_at(compact.len().saturating_sub(1)),
                };
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if !digits(body)
                    || !kind.body_digits().contains(&body.len())
                    || check.len() != 1
                    || !digits(check)
                {
                    return Err(shape_error());
                }
                format!("{body}({check})")
            }
        };
        Ok(Self { kind, number })
    }

    /// The key under which the registry files this document (earlier certificates, record
    /// entries): the type code and the canonical number. Only meaningful for a document made
    /// by [`IdentityDocument::parse`].
    pub fn registry_key(&self) -> String {
        let letters_and_digits: String = self
            .number
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        format!("{}:{letters_and_digits}", self.kind.code())
    }
}

#[cfg(test)]
mod tests;
