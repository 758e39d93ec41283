//! Forms with files (`multipart/form-data`): the face photo, exemption documents, answers to
//! requests for information. Protected like every form ([`super::session`]: same site, the
//! session's token) and bounded while read: at most [`MAX_PARTS`] parts, text parts of
//! [`MAX_TEXT_BYTES`], files of the configured `max_document_bytes`, the whole body of
//! `max_upload_bytes` (the router's body limit; 413 beyond). A file over its limit is
//! not an error of the request but of its field: it is reported on the page, with nothing
//! stored. What a file contains is checked by the use case (`crate::rules::documents`).

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request};
use axum::response::{IntoResponse, Response};

use super::session;
use crate::bureau::Services as AppState;
use crate::store::web_sessions::WebSessionRow;

/// Most parts in one form (text fields and files together).
pub const MAX_PARTS: usize = 32;

/// Largest text part.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;

/// A file part as received.
#[derive(Debug)]
pub struct UploadedFile {
    /// The form field's name.
    pub field: String,
    /// The file name the browser sent (may be empty).
    pub filename: String,
    /// The media type the browser declared.
    pub media_type: String,
    /// The content, or `None` when it was over the size limit (and dropped while read).
    pub content: Option<Vec<u8>>,
}

/// A checked form post with files.
#[derive(Debug)]
pub struct CheckedUpload {
    /// The poster's session.
    pub session: WebSessionRow,
    /// Text fields, in order.
    pub texts: Vec<(String, String)>,
    /// Files, in order; a field left empty by the browser is not listed.
    pub files: Vec<UploadedFile>,
}

impl CheckedUpload {
    /// The text field `name`, if sent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The file of field `name`, if one was chosen.
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.iter().find(|f| f.field == name)
    }
}

fn bad_request(why: &str) -> Response {
    eprintln!("issuer: refused an upload: {why}");
    (axum::http::StatusCode::BAD_REQUEST, "unreadable form").into_response()
}

/// A form that could not be read: 413 when it is larger than the portal's upload limit
/// (`[application] max_upload_bytes`), else 400.
fn unreadable(e: &axum::extract::multipart::MultipartError) -> Response {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        eprintln!("issuer: refused an upload: {}", e.body_text());
        return (
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "the files together are larger than the upload limit",
        )
            .into_response();
    }
    bad_request(&e.body_text())
}

impl FromRequest<Arc<AppState>> for CheckedUpload {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = session::posting_session(&mut parts, state).await?;
        let lang = session::form_lang(&parts);
        let request = Request::from_parts(parts, body);
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|_| bad_request("not multipart/form-data"))?;
        let max_file = state.bureau.config().application.max_document_bytes;
        let mut texts = Vec::new();
        let mut files = Vec::new();
        let mut count = 0;
        while let Some(mut field) = multipart.next_field().await.map_err(|e| unreadable(&e))? {
            count += 1;
            if count > MAX_PARTS {
                return Err(bad_request("too many parts"));
            }
            let name: String = field.name().unwrap_or_default().chars().take(64).collect();
            let filename: Option<String> = field.file_name().map(|f| f.chars().take(256).collect());
            let media_type: String = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .chars()
                .take(128)
                .collect();
            let limit = if filename.is_some() {
                max_file
            } else {
                MAX_TEXT_BYTES
            };
            let mut content = Some(Vec::new());
            while let Some(chunk) = field.chunk().await.map_err(|e| unreadable(&e))? {
                if let Some(buf) = content.as_mut() {
                    if buf.len() + chunk.len() > limit {
                        // Over the limit: keep reading (the rest of the form matters) but
                        // drop what came, so memory stays bounded.
                        content = None;
                    } else {
                        buf.extend_from_slice(&chunk);
                    }
                }
            }
            match filename {
                Some(filename) => {
                    // A file input left empty arrives as a part without name or content.
                    if filename.is_empty() && content.as_ref().is_some_and(Vec::is_empty) {
                        continue;
                    }
                    files.push(UploadedFile {
                        field: name,
                        filename,
                        media_type,
                        content,
                    });
                }
                None => {
                    let text = content
                        .and_then(|c| String::from_utf8(c).ok())
                        .ok_or_else(|| bad_request("a text field is too long or not UTF-8"))?;
                    texts.push((name, text));
                }
            }
        }
        let sent = texts
            .iter()
            .find(|(n, _)| n == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        if !session::token_matches(sent, &session) {
            return Err(session::refuse("missing or wrong form token", lang));
        }
        Ok(Self {
            session,
            texts,
            files,
        })
    }
}
