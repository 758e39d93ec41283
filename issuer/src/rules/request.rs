//! Certificate requests (SPEC §6, `schemas/certificate-request.schema.json`): parsing and the
//! checks that must pass before anything is written.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use unicode_script::Script;

use ccr_pki::document::{Coded, DocumentType, Holder, IdentityDocument, RecordEntry};

use crate::setup::config::{CodedEntry, Config};

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
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
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

/// Separators a Latin name may contain besides single spaces: hyphen, apostrophes, full stop.
const LATIN_NAME_PUNCTUATION: [char; 4] = ['-', '\'', '\u{2019}', '.'];
/// Separators a Chinese name may contain: the middle dots of transliterated foreign names.
const CHINESE_NAME_PUNCTUATION: [char; 3] = ['\u{00B7}', '\u{2027}', '\u{30FB}'];

/// The rule for holder names: a name is in one script, as on the identity document. A Latin
/// name holds Latin letters (with their diacritics), single spaces and
/// [`LATIN_NAME_PUNCTUATION`]; a Chinese name holds Han characters and middle dots. A letter
/// of another script (Cyrillic "А" in "CHАN", Greek "Ο"), a digit, a compatibility form
/// (fullwidth "ＣＨＡＮ", ligatures, Kangxi radicals: anything NFKC would change), or an
/// invisible or control character is refused with its code point, because it would print a
/// look-alike of another person's name.
fn check_name(path: &str, name: String, script: Script) -> Result<String, RequestError> {
    use unicode_normalization::UnicodeNormalization;
    use unicode_script::UnicodeScript;
    let refuse = |c: char, why: &str| {
        field(
            path,
            format!("contains {c:?} (U+{:04X}), {why}", u32::from(c)),
        )
    };
    let mut previous: Option<char> = None;
    for c in name.chars() {
        let compatible = std::iter::once(c).nfkc().eq(std::iter::once(c));
        let allowed = match script {
            Script::Latin => {
                (c.is_alphabetic() && c.script() == Script::Latin)
                    || (is_diacritic(c)
                        && previous
                            .is_some_and(|p| p != ' ' && !LATIN_NAME_PUNCTUATION.contains(&p)))
                    || (c == ' ' && previous != Some(' '))
                    || LATIN_NAME_PUNCTUATION.contains(&c)
            }
            _ => c.script() == Script::Han || CHINESE_NAME_PUNCTUATION.contains(&c),
        };
        if !allowed {
            let expected = match script {
                Script::Latin => {
                    "which is not a Latin letter, a single space, a hyphen, an apostrophe or a full stop"
                }
                _ => "which is not a Chinese character or a middle dot",
            };
            return Err(refuse(c, expected));
        }
        if !compatible {
            return Err(refuse(
                c,
                "a compatibility form (fullwidth, ligature, radical…); type the ordinary letter",
            ));
        }
        previous = Some(c);
    }
    Ok(name)
}

/// A combining diacritical mark left after NFC (e.g. a Vietnamese letter with two marks that
/// has no precomposed form). Invisible joiners and selectors, though of the same "inherited"
/// script, are not among them.
fn is_diacritic(c: char) -> bool {
    matches!(u32::from(c), 0x0300..=0x036F | 0x1DC0..=0x1DFF) && c != '\u{034F}'
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

impl DocumentRequest {
    /// The document in its one canonical form ([`IdentityDocument::parse`]); `path` names the
    /// field in errors.
    pub fn parse(&self, path: &str) -> Result<IdentityDocument, RequestError> {
        let kind = DocumentType::from_code(&self.kind).ok_or_else(|| {
            field(
                &format!("{path}.type"),
                format!("{:?} is not one of BIR, TI, PASSPORT", bounded(&self.kind)),
            )
        })?;
        IdentityDocument::parse(kind, &self.number)
            .map_err(|e| field(&format!("{path}.number"), e.to_string()))
    }
}

/// At most 40 characters of `text`, for quoting input back in an error message.
fn bounded(text: &str) -> String {
    text.chars().take(40).collect()
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
        let name_latin = check_text("holder.name_latin", &h.name_latin, MAX_LATIN_NAME_CHARS)
            .and_then(|n| check_name("holder.name_latin", n, Script::Latin))?;
        let name_chinese = h
            .name_chinese
            .as_deref()
            .map(|n| {
                check_text("holder.name_chinese", n, MAX_CHINESE_NAME_CHARS)
                    .and_then(|n| check_name("holder.name_chinese", n, Script::Han))
            })
            .transpose()?;
        let date_of_birth = parse_date("holder.date_of_birth", &h.date_of_birth)?;
        if date_of_birth > today.date() || date_of_birth.year() < 1900 {
            return Err(field(
                "holder.date_of_birth",
                "must be between 1900-01-01 and today",
            ));
        }
        let document = h.document.parse("holder.document")?;
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
                document,
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
/// registry). The document must come from [`IdentityDocument::parse`], the one canonical form.
pub fn doc_key(document: &IdentityDocument) -> String {
    document.registry_key()
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
    use crate::setup::config::default_toml;

    fn request(name_latin: &str) -> CertificateRequest {
        let json = serde_json::json!({
            "holder": {
                "name_latin": name_latin,
                "name_chinese": null,
                "date_of_birth": "1990-01-31",
                "document": { "type": "TI", "number": "9123456(7)" }
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

    fn holder_names(latin: &str, chinese: Option<&str>) -> Result<ValidRequest, RequestError> {
        let config = Config::from_toml(&default_toml("http://127.0.0.1:8080")).expect("config");
        let mut r = request(latin);
        r.holder.name_chinese = chinese.map(str::to_owned);
        r.validate(&config, &config.departments, OffsetDateTime::now_utc())
    }

    #[test]
    fn names_in_one_script_as_on_the_document_are_accepted() {
        for latin in [
            "CHAN TAI MAN",
            "JOÃO CONCEIÇÃO GONÇALVES",
            "NGUYỄN THỊ MINH KHAI",
            "O'NEILL",
            "D\u{2019}ALMEIDA",
            "MOHAMMED BIN HASSAN AL-FARUQI",
            "MARIA DE F. SOUSA",
            "dela Cruz",
        ] {
            holder_names(latin, None).unwrap_or_else(|e| panic!("{latin:?}: {e}"));
        }
        for chinese in ["陳大文", "陳𨋢文", "阿布·哈桑"] {
            holder_names("CHAN TAI MAN", Some(chinese))
                .unwrap_or_else(|e| panic!("{chinese:?}: {e}"));
        }
    }

    #[test]
    fn look_alike_names_are_refused_with_the_code_point() {
        for (latin, code) in [
            ("CH\u{0410}N TAI MAN", "U+0410"),  // Cyrillic A
            ("CHAN TAI M\u{0391}N", "U+0391"),  // Greek Alpha
            ("\u{FF23}HAN TAI MAN", "U+FF23"),  // fullwidth C
            ("CHAN\u{200D} TAI MAN", "U+200D"), // zero-width joiner
            ("CHAN\u{034F} TAI MAN", "U+034F"), // combining grapheme joiner
            ("CHAN TAI MAN 2", "U+0032"),       // a digit
            ("CHAN  TAI MAN", "U+0020"),        // two spaces
            ("\u{FB01}LIPE", "U+FB01"),         // ligature fi
            ("CHAN \u{0301}TAI", "U+0301"),     // a mark on nothing
            ("CHAN\u{202E}NAM", "U+202E"),      // bidi override
        ] {
            let err = holder_names(latin, None).expect_err(latin);
            let text = err.to_string();
            assert!(
                text.starts_with("holder.name_latin") && text.contains(code),
                "{latin:?}: {text}"
            );
        }
        for (chinese, code) in [
            ("陳大A", "U+0041"),
            ("陳\u{2F24}文", "U+2F24"), // Kangxi radical "big", looks like 大
            ("陳 大文", "U+0020"),
        ] {
            let err = holder_names("CHAN TAI MAN", Some(chinese)).expect_err(chinese);
            let text = err.to_string();
            assert!(
                text.starts_with("holder.name_chinese") && text.contains(code),
                "{chinese:?}: {text}"
            );
        }
    }

    #[test]
    fn document_numbers_are_canonical_or_refused_with_the_field() {
        let config = Config::from_toml(&default_toml("http://127.0.0.1:8080")).expect("config");
        let mut r = request("CHAN TAI MAN");
        r.holder.document = DocumentRequest {
            kind: "BIR".into(),
            number: "5215299 (8)".into(),
        };
        let valid = r
            .validate(&config, &config.departments, OffsetDateTime::now_utc())
            .expect("valid");
        assert_eq!(valid.holder.document.number, "5215299(8)");
        assert_eq!(doc_key(&valid.holder.document), "BIR:52152998");
        r.holder.document.number = "521529\u{FF19}(8)".into();
        let err = r
            .validate(&config, &config.departments, OffsetDateTime::now_utc())
            .expect_err("fullwidth digit");
        let text = err.to_string();
        assert!(
            text.starts_with("holder.document.number:") && text.contains("U+FF19"),
            "{text}"
        );
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
            "../../../schemas/certificate-request.schema.json"
        ))
        .expect("schema");
        let records = &schema["properties"]["records"];
        assert_eq!(records["maxItems"], MAX_RECORDS);
        let fields = &records["items"]["properties"];
        assert_eq!(fields["offence"]["maxLength"], MAX_RECORD_FIELD_CHARS);
        assert_eq!(fields["case_number"]["maxLength"], MAX_CASE_NUMBER_CHARS);
    }
}
