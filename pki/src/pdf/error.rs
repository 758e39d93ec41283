//! The one error type of the PDF reader.

use super::object::ObjectId;

/// Everything that can make a PDF unreadable for verification.
///
/// Every message names what was wrong and, where it helps, the byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// A configured bound was exceeded (see [`super::Limits`]).
    #[error("{limit} {value} exceeds the limit of {max}")]
    LimitExceeded {
        /// What was measured, e.g. `"nesting depth"`.
        limit: &'static str,
        /// The measured value (for running totals: the first value seen over the bound).
        value: u64,
        /// The configured maximum.
        max: u64,
    },
    /// The bytes are not valid PDF syntax.
    #[error("PDF syntax error at offset {offset}: {message}")]
    Syntax {
        /// Byte offset in the file where the problem was found.
        offset: usize,
        /// What was expected or found.
        message: String,
    },
    /// Valid PDF, but a feature this strict reader deliberately does not handle.
    #[error("unsupported PDF feature: {0}")]
    Unsupported(String),
    /// The object is not in use in the requested revision (never defined, freed, or another generation).
    #[error("object {0} does not exist in this revision")]
    MissingObject(ObjectId),
    /// The cross-reference structure (tables, trailers, `/Prev` chain, `startxref`) is inconsistent.
    #[error("cross-reference: {0}")]
    Xref(String),
    /// A stream could not be decoded.
    #[error("stream data at offset {offset} cannot be decoded: {message}")]
    Decode {
        /// Byte offset of the stream data in the file.
        offset: usize,
        /// The decoder's complaint.
        message: String,
    },
}

impl PdfError {
    pub(crate) fn syntax(offset: usize, message: impl Into<String>) -> Self {
        Self::Syntax {
            offset,
            message: message.into(),
        }
    }

    pub(crate) fn limit(
        limit: &'static str,
        value: impl TryInto<u64>,
        max: impl TryInto<u64>,
    ) -> Self {
        Self::LimitExceeded {
            limit,
            value: value.try_into().unwrap_or(u64::MAX),
            max: max.try_into().unwrap_or(u64::MAX),
        }
    }
}

/// Shorthand for results of this module.
pub(crate) type Result<T, E = PdfError> = core::result::Result<T, E>;
