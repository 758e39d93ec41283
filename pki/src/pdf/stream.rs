//! Stream filters: none and `/FlateDecode` only, inflated under a running byte budget.

use std::io::Read;

use super::error::{PdfError, Result};
use super::object::{Object, Stream};
use super::parser::name_text;

/// The one filter we decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    None,
    Flate,
}

/// Which filter a stream uses; anything outside our scope is `Unsupported`.
pub(crate) fn filter_of(stream: &Stream) -> Result<Filter> {
    let dict = &stream.dict;
    for key in [b"F".as_slice(), b"FFilter", b"FDecodeParms"] {
        if dict.contains_key(key) {
            return Err(PdfError::Unsupported(
                "streams with external data (/F) are not supported".to_owned(),
            ));
        }
    }
    match dict.get(b"DecodeParms") {
        None | Some(Object::Null) => {}
        Some(Object::Dict(d)) if d.is_empty() => {}
        Some(Object::Array(a))
            if a.iter()
                .all(|p| p.is_null() || p.as_dict().is_some_and(|d| d.is_empty())) => {}
        Some(_) => {
            return Err(PdfError::Unsupported(
                "stream /DecodeParms (predictors) are not supported".to_owned(),
            ));
        }
    }
    let one = |name: &Object| -> Result<Filter> {
        match name.as_name() {
            Some(b"FlateDecode") => Ok(Filter::Flate),
            Some(other) => Err(PdfError::Unsupported(format!(
                "stream filter /{} is not supported (only /FlateDecode)",
                name_text(other)
            ))),
            None => Err(PdfError::Unsupported(format!(
                "a stream /Filter that is a {} (a direct name is required)",
                name.kind()
            ))),
        }
    };
    match dict.get(b"Filter") {
        None | Some(Object::Null) => Ok(Filter::None),
        Some(Object::Array(filters)) => match filters.as_slice() {
            [] => Ok(Filter::None),
            [f] => one(f),
            _ => Err(PdfError::Unsupported(
                "chains of several stream filters are not supported".to_owned(),
            )),
        },
        Some(f) => one(f),
    }
}

/// Inflate zlib data, producing at most `budget + 1` bytes: a result longer than `budget`
/// means the limit is exceeded, and the decoder never got to expand further.
/// The bytes produced are returned even on a decoding error, so the caller can charge them.
pub(crate) fn inflate(raw: &[u8], budget: u64) -> (Vec<u8>, Option<std::io::Error>) {
    let mut out = Vec::new();
    let error = flate2::read::ZlibDecoder::new(raw)
        .take(budget.saturating_add(1))
        .read_to_end(&mut out)
        .err();
    (out, error)
}
