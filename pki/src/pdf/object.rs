//! The PDF object model, owning its data and remembering where strings and objects sit in the file.

use core::fmt;

/// A half-open byte range `start..end` in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// Number of bytes covered.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The covered bytes of `data`, or `None` if the span lies outside it.
    pub fn slice<'d>(&self, data: &'d [u8]) -> Option<&'d [u8]> {
        data.get(self.start..self.end)
    }
}

/// An object number and generation, as in `12 0 R`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// Object number.
    pub number: u32,
    /// Generation number.
    pub generation: u16,
}

impl ObjectId {
    /// An id from its two numbers.
    pub const fn new(number: u32, generation: u16) -> Self {
        Self { number, generation }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.number, self.generation)
    }
}

/// A string object: decoded bytes plus where its token sits in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfString {
    /// The decoded bytes (escapes resolved, hex decoded).
    pub bytes: Vec<u8>,
    /// The whole token in the file, delimiters included: `(`…`)` or `<`…`>`.
    pub span: Span,
    /// Whether it was written as a hex string `<…>`.
    pub hex: bool,
}

/// A dictionary, keeping the file's key order. Keys are decoded names without the `/`.
///
/// Duplicate keys are rejected when parsing, so [`Dict::get`] is unambiguous.
/// A key whose value is `null` is returned as [`Object::Null`] (PDF treats it as absent).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict {
    pub(crate) entries: Vec<(Vec<u8>, Object)>,
}

impl Dict {
    /// The value for `key` (without the leading `/`), if present.
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// The value for `key` if it is a name.
    pub fn get_name(&self, key: &[u8]) -> Option<&[u8]> {
        self.get(key).and_then(Object::as_name)
    }

    /// The value for `key` if it is an integer.
    pub fn get_int(&self, key: &[u8]) -> Option<i64> {
        self.get(key).and_then(Object::as_int)
    }

    /// The value for `key` if it is a direct dictionary.
    pub fn get_dict(&self, key: &[u8]) -> Option<&Dict> {
        self.get(key).and_then(Object::as_dict)
    }

    /// The value for `key` if it is a direct array.
    pub fn get_array(&self, key: &[u8]) -> Option<&[Object]> {
        self.get(key).and_then(Object::as_array)
    }

    /// The value for `key` if it is an indirect reference.
    pub fn get_ref(&self, key: &[u8]) -> Option<ObjectId> {
        self.get(key).and_then(Object::as_ref)
    }

    /// The value for `key` if it is a string.
    pub fn get_string(&self, key: &[u8]) -> Option<&PdfString> {
        self.get(key).and_then(Object::as_string)
    }

    /// Whether `/Type` is the name `ty`.
    pub fn has_type(&self, ty: &[u8]) -> bool {
        self.get_name(b"Type") == Some(ty)
    }

    /// Entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Object)> {
        self.entries.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Keys in file order.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.entries.iter().map(|(k, _)| k.as_slice())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromIterator<(Vec<u8>, Object)> for Dict {
    /// A dictionary from entries in order (for building expected values; no duplicate check).
    fn from_iter<I: IntoIterator<Item = (Vec<u8>, Object)>>(iter: I) -> Self {
        Self {
            entries: iter.into_iter().collect(),
        }
    }
}

/// A stream: its dictionary and where its raw (still encoded) data sits in the file.
///
/// Use [`PdfFile::stream_data`](super::PdfFile::stream_data) for the raw bytes and
/// [`PdfFile::decode_stream`](super::PdfFile::decode_stream) for the decoded ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// The stream dictionary.
    pub dict: Dict,
    /// The raw data between `stream`+EOL and the optional EOL before `endstream`
    /// (exactly `/Length` bytes).
    pub data: Span,
}

/// A PDF object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer (range of `i64`; larger ones are a syntax error).
    Integer(i64),
    /// A real number such as `-1.5`.
    Real(f64),
    /// A name, decoded (`#xx` escapes resolved), without the leading `/`.
    Name(Vec<u8>),
    /// A literal or hex string.
    String(PdfString),
    /// An array.
    Array(Vec<Object>),
    /// A dictionary.
    Dict(Dict),
    /// A stream (only ever the top-level value of an indirect object).
    Stream(Stream),
    /// An indirect reference `N G R`.
    Reference(ObjectId),
}

impl Object {
    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The value of an integer or real.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            // Precision loss above 2^53 is irrelevant for the coordinates this is meant for.
            Self::Integer(i) => Some(*i as f64),
            Self::Real(r) => Some(*r),
            _ => None,
        }
    }

    /// The decoded name bytes, if this is a name.
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Self::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_string(&self) -> Option<&PdfString> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Self::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The dictionary, if this is a dictionary (not a stream: see [`Object::as_stream`]).
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Self::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// The stream, if this is one.
    pub fn as_stream(&self) -> Option<&Stream> {
        match self {
            Self::Stream(s) => Some(s),
            _ => None,
        }
    }

    /// The referenced id, if this is an indirect reference.
    pub fn as_ref(&self) -> Option<ObjectId> {
        match self {
            Self::Reference(id) => Some(*id),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// A short name of the kind of object, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::Integer(_) => "integer",
            Self::Real(_) => "real",
            Self::Name(_) => "name",
            Self::String(_) => "string",
            Self::Array(_) => "array",
            Self::Dict(_) => "dictionary",
            Self::Stream(_) => "stream",
            Self::Reference(_) => "reference",
        }
    }
}

/// An indirect object `N G obj … endobj` as read from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct IndirectObject {
    /// Its id (checked against the cross-reference entry that led to it).
    pub id: ObjectId,
    /// Its value.
    pub object: Object,
    /// From the first digit of `N G obj` to the end of `endobj`.
    pub span: Span,
    /// Index of the revision whose cross-reference entry located it.
    pub revision: usize,
}
