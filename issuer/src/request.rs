//! Certificate requests (SPEC §6, `schemas/certificate-request.schema.json`): parsing and the
//! checks that must pass before anything is written.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use ccr_pki::document::{Coded, DocumentType, Holder, IdentityDocument, RecordEntry};

use crate::config::{CodedEntry, Config};

/// Largest request accepted, in bytes.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Longest Latin name, in characters.
pub const MAX_LATIN_NAME_CHARS: usize = 120;
/// Longest Chinese name, in characters.
pub const MAX_CHINESE_NAME_CHARS: usize = 40;
/// Most record entries on one certificate (and in the registry for one document: every entry
/// may be disclosed for some usage).
pub const MAX_RECORDS: usize = 20;
/// Longest free-text field of a record entry (court, offence, sentence), in characters.
pub const MAX_RECORD_FIELD_CHARS: usize = 300;
/// Longest case number of a record entry, in characters.
pub const MAX_CASE_NUMBER_CHARS: usize = 64;
/// Pages a certificate has besides its record entries: the first page (header, holder,
/// usage) and the last (declaration, signature line, QR code).
pub const PAGES_WITHOUT_RECORDS: usize = 2;
/// Most pages of a certificate; the renderer refuses more. One record entry whose every
/// field is at its limit in the widest script (CJK) needs at most one page, so every request
/// these limits accept renders (`render::tests::largest_accepted_request_renders`).
pub const MAX_CERTIFICATE_PAGES: usize = MAX_RECORDS + PAGES_WITHOUT_RECORDS;

/// Notification language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Chinese.
    Zh,
    /// Portuguese.
    Pt,
    /// English.
    En,
}

/// An identity document as requested.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequest {
    /// `BIR`, `TI` or `PASSPORT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The number as printed.
    pub number: String,
}

/// The holder as requested.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HolderRequest {
    /// Latin-script name.
    pub name_latin: String,
    /// Chinese name, if any.
    pub name_chinese: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// The identity document.
    pub document: DocumentRequest,
}

/// A record entry as requested.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    /// The court.
    pub court: String,
    /// The case number.
    pub case_number: String,
    /// `YYYY-MM-DD`.
    pub decision_date: String,
    /// The offence.
    pub offence: String,
    /// The sentence.
    pub sentence: String,
}

/// A certificate request.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequest {
    /// The person.
    pub holder: HolderRequest,
    /// Usage code from the configured list.
    pub usage: String,
    /// Notification language.
    pub language: Language,
    /// Express processing.
    pub express: bool,
    /// Record entries; empty for nothing on record.
    pub records: Vec<RecordRequest>,
    /// Receiving department code for a transfer copy.
    pub transfer_to: Option<String>,
}

/// A request that passed every check.
#[derive(Clone, Debug)]
pub struct ValidRequest {
    /// The holder.
    pub holder: Holder,
    /// The usage, with its printed names.
    pub usage: Coded,
    /// Record entries.
    pub records: Vec<RecordEntry>,
    /// The receiving department of a transfer copy.
    pub transfer_to: Option<Coded>,
    /// Notification language.
    pub language: Language,
    /// Express processing.
    pub express: bool,
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Not JSON of the right shape.
    #[error("the request is not valid: {0}")]
    Shape(String),
    /// A field's value is not acceptable.
    #[error("{field}: {message}")]
    Field {
        /// The JSON path of the field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn field(field: &str, message: impl Into<String>) -> RequestError {
    RequestError::Field {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn parse_date(path: &str, text: &str) -> Result<Date, RequestError> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        field(
            path,
            format!("{text:?} is not a date of the form YYYY-MM-DD"),
        )
    })
}

/// Trims, bounds and normalises a text field. Names are kept exactly as written but in
/// Unicode NFC, so that a name typed with combining marks (e.g. Vietnamese "Nguye\u{0303}n")
/// prints with the precomposed letters the font has and compares equal to its composed form.
fn check_text(path: &str, text: &str, max_chars: usize) -> Result<String, RequestError> {
    use unicode_normalization::UnicodeNormalization;
    let normalised: String = text.nfc().collect();
    let trimmed = normalised.trim();
    if trimmed.is_empty() {
        return Err(field(path, "must not be empty"));
    }
    let count = trimmed.chars().count();
    if count > max_chars {
        return Err(field(
            path,
            format!("{count} characters exceed the limit of {max_chars}"),
        ));
    }
    if let Some(c) = trimmed.chars().find(|c| c.is_control()) {
        return Err(field(
            path,
            format!("contains the control character U+{:04X}", u32::from(c)),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Checks record entry `i` (dates, lengths, normalisation), as printed on a certificate.
pub fn check_record(i: usize, r: &RecordRequest) -> Result<RecordEntry, RequestError> {
    let p = |f: &str| format!("records[{i}].{f}");
    Ok(RecordEntry {
        court: check_text(&p("court"), &r.court, MAX_RECORD_FIELD_CHARS)?,
        case_number: check_text(&p("case_number"), &r.case_number, MAX_CASE_NUMBER_CHARS)?,
        decision_date: parse_date(&p("decision_date"), &r.decision_date)?,
        offence: check_text(&p("offence"), &r.offence, MAX_RECORD_FIELD_CHARS)?,
        sentence: check_text(&p("sentence"), &r.sentence, MAX_RECORD_FIELD_CHARS)?,
    })
}

impl CertificateRequest {
    /// Parses request JSON (bounded size).
    pub fn from_json(bytes: &[u8]) -> Result<Self, RequestError> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(RequestError::Shape(format!(
                "{} bytes exceed the limit of {MAX_REQUEST_BYTES}",
                bytes.len()
            )));
        }
        serde_json::from_slice(bytes).map_err(|e| RequestError::Shape(e.to_string()))
    }

    /// Checks every field against the configuration and the department registry; `today`
    /// bounds the date of birth.
    pub fn validate(
        &self,
        config: &Config,
        departments: &[CodedEntry],
        today: OffsetDateTime,
    ) -> Result<ValidRequest, RequestError> {
        let h = &self.holder;
        let name_latin = check_text("holder.name_latin", &h.name_latin, MAX_LATIN_NAME_CHARS)?;
        let name_chinese = h
            .name_chinese
            .as_deref()
            .map(|n| check_text("holder.name_chinese", n, MAX_CHINESE_NAME_CHARS))
            .transpose()?;
        let date_of_birth = parse_date("holder.date_of_birth", &h.date_of_birth)?;
        if date_of_birth > today.date() || date_of_birth.year() < 1900 {
            return Err(field(
                "holder.date_of_birth",
                "must be between 1900-01-01 and today",
            ));
        }
        let kind = DocumentType::from_code(&h.document.kind).ok_or_else(|| {
            field(
                "holder.document.type",
                format!("{:?} is not one of BIR, TI, PASSPORT", h.document.kind),
            )
        })?;
        let number = check_text("holder.document.number", &h.document.number, 32)?;
        let usage = config
            .usage(&self.usage)
            .map(|u| u.to_coded())
            .ok_or_else(|| {
                let known: Vec<&str> = config.usages.iter().map(|u| u.code.as_str()).collect();
                field(
                    "usage",
                    format!(
                        "{:?} is not a known usage ({})",
                        self.usage,
                        known.join(", ")
                    ),
                )
            })?;
        let transfer_to = self
            .transfer_to
            .as_deref()
            .map(|dept| {
                departments
                    .iter()
                    .find(|d| d.code == dept)
                    .map(CodedEntry::to_coded)
                    .ok_or_else(|| {
                        field(
                            "transfer_to",
                            format!("{dept:?} is not a registered department"),
                        )
                    })
            })
            .transpose()?;
        if self.records.len() > MAX_RECORDS {
            return Err(field(
                "records",
                format!(
                    "{} entries exceed the limit of {MAX_RECORDS}",
                    self.records.len()
                ),
            ));
        }
        let records = self
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| check_record(i, r))
            .collect::<Result<Vec<_>, RequestError>>()?;
        Ok(ValidRequest {
            holder: Holder {
                name_latin,
                name_chinese,
                date_of_birth,
                document: IdentityDocument { kind, number },
            },
            usage,
            records,
            transfer_to,
            language: self.language,
            express: self.express,
        })
    }
}

/// The key under which an identity document is looked up (previous applications, the record
/// registry): the type code and the number's letters and digits, upper-cased, so that
/// "1234567(8)" and "12345678" are the same document.
pub fn doc_key(document: &ccr_pki::document::IdentityDocument) -> String {
    let number: String = document
        .number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    format!("{}:{number}", document.kind.code())
}

impl Language {
    /// The code used in requests.
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::Pt => "pt",
            Self::En => "en",
        }
    }

    /// Parses the code used in requests.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "zh" => Some(Self::Zh),
            "pt" => Some(Self::Pt),
            "en" => Some(Self::En),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::default_toml;

    fn request(name_latin: &str) -> CertificateRequest {
        let json = serde_json::json!({
            "holder": {
                "name_latin": name_latin,
                "name_chinese": null,
                "date_of_birth": "1990-01-31",
                "document": { "type": "TI", "number": "AB123456" }
            },
            "usage": "EMPLOYMENT", "language": "en", "express": false, "records": [], "transfer_to": null
        });
        CertificateRequest::from_json(json.to_string().as_bytes()).expect("shape")
    }

    #[test]
    fn decomposed_names_are_normalised_to_nfc() {
        let config = Config::from_toml(&default_toml("http://127.0.0.1:8080")).expect("config");
        let decomposed = "NGUYE\u{0302}\u{0303}N THI\u{0323} MINH KHAI";
        let valid = request(decomposed)
            .validate(&config, &config.departments, OffsetDateTime::now_utc())
            .expect("valid");
        assert_eq!(valid.holder.name_latin, "NGUYỄN THỊ MINH KHAI");
    }

    #[test]
    fn bad_fields_are_named() {
        let config = Config::from_toml(&default_toml("http://127.0.0.1:8080")).expect("config");
        let mut r = request("CHAN TAI MAN");
        r.usage = "SMUGGLING".into();
        let err = r
            .validate(&config, &config.departments, OffsetDateTime::now_utc())
            .expect_err("unknown usage");
        assert!(err.to_string().starts_with("usage:"), "{err}");
        let mut r = request("CHAN TAI MAN");
        r.holder.date_of_birth = "1990-02-30".into();
        let err = r
            .validate(&config, &config.departments, OffsetDateTime::now_utc())
            .expect_err("bad date");
        assert!(err.to_string().contains("holder.date_of_birth"), "{err}");
        assert!(
            request("   ")
                .validate(&config, &config.departments, OffsetDateTime::now_utc())
                .is_err()
        );
    }

    #[test]
    fn record_limits_are_enforced_and_published() {
        let config = Config::from_toml(&default_toml("http://127.0.0.1:8080")).expect("config");
        let entry = RecordRequest {
            court: "初".repeat(MAX_RECORD_FIELD_CHARS),
            case_number: "W".repeat(MAX_CASE_NUMBER_CHARS),
            decision_date: "2024-03-15".into(),
            offence: "初".repeat(MAX_RECORD_FIELD_CHARS),
            sentence: "初".repeat(MAX_RECORD_FIELD_CHARS),
        };
        let mut r = request("CHAN TAI MAN");
        r.records = vec![entry.clone(); MAX_RECORDS];
        let now = OffsetDateTime::now_utc();
        assert!(r.validate(&config, &config.departments, now).is_ok());
        r.records.push(entry.clone());
        let err = r
            .validate(&config, &config.departments, now)
            .expect_err("one entry too many");
        assert!(err.to_string().starts_with("records:"), "{err}");
        let mut long = entry;
        long.offence.push('初');
        let err = check_record(2, &long).expect_err("field too long");
        assert!(err.to_string().starts_with("records[2].offence:"), "{err}");
        // The published request schema states the same limits.
        let schema: serde_json::Value = serde_json::from_str(include_str!(
            "../../schemas/certificate-request.schema.json"
        ))
        .expect("schema");
        let records = &schema["properties"]["records"];
        assert_eq!(records["maxItems"], MAX_RECORDS);
        let fields = &records["items"]["properties"];
        assert_eq!(fields["offence"]["maxLength"], MAX_RECORD_FIELD_CHARS);
        assert_eq!(fields["case_number"]["maxLength"], MAX_CASE_NUMBER_CHARS);
    }
}
