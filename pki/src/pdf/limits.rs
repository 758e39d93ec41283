//! Explicit bounds on everything an attacker controls.

/// Bounds applied while reading a PDF. Every violation is a
/// [`PdfError::LimitExceeded`](super::PdfError::LimitExceeded) naming the limit.
///
/// The defaults are generous for a one-to-few-page certificate and small enough that a
/// hostile file cannot exhaust memory or time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in bytes (default 10 MiB).
    pub max_file_bytes: u64,
    /// Deepest nesting of arrays and dictionaries in one object (default 32).
    pub max_nesting: u32,
    /// Total cross-reference entries over all revisions (default 10 000).
    pub max_objects: u64,
    /// Number of revisions in the `/Prev` chain (default 16).
    pub max_revisions: u32,
    /// Decoded stream bytes, counted across the whole file (default 16 MiB).
    pub max_decompressed_bytes: u64,
    /// Longest decoded string or name (default 1 MiB).
    pub max_string_bytes: u64,
    /// Most elements in one array (default 100 000).
    pub max_array_len: u64,
    /// Most entries in one dictionary (default 100 000).
    pub max_dict_len: u64,
    /// Most values (scalars and containers) in one parsed object, so that one object of
    /// tiny elements cannot cost many times the file size in memory (default 1 000 000).
    pub max_object_values: u64,
    /// Bytes of object syntax parsed (stream data excluded), counted across the whole file:
    /// bounds the total work of reading many objects, e.g. nested ones that overlap
    /// (default 64 MiB). A failed read is charged everything it could have scanned.
    pub max_parsed_bytes: u64,
    /// Longest chain of references followed by [`PdfFile::resolve`](super::PdfFile::resolve)
    /// (default 16).
    pub max_reference_chain: u32,
    /// Whitespace tolerated after the final `%%EOF` and its end-of-line (default 32 bytes);
    /// anything else there is an error.
    pub max_trailing_whitespace: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 10 * 1024 * 1024,
            max_nesting: 32,
            max_objects: 10_000,
            max_revisions: 16,
            max_decompressed_bytes: 16 * 1024 * 1024,
            max_string_bytes: 1024 * 1024,
            max_array_len: 100_000,
            max_dict_len: 100_000,
            max_object_values: 1_000_000,
            max_parsed_bytes: 64 * 1024 * 1024,
            max_reference_chain: 16,
            max_trailing_whitespace: 32,
        }
    }
}
