//! The issuer's configuration (`issuer.toml` in the home): public URLs, the authority's
//! printed name, and the coded lists of SPEC §2 (usages, departments).

use serde::Deserialize;

use ccr_pki::document::{Coded, Trilingual};

/// Smallest status list (SPEC §4), which also hides which certificate is checked.
pub const MIN_STATUS_LIST_SIZE: u32 = 131_072;

/// A coded entry as written in the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodedEntry {
    /// The code.
    pub code: String,
    /// Traditional Chinese name.
    pub zh: String,
    /// Portuguese name.
    pub pt: String,
    /// English name.
    pub en: String,
}

impl CodedEntry {
    /// As printed on certificates.
    pub fn to_coded(&self) -> Coded {
        Coded {
            code: self.code.clone(),
            name: Trilingual {
                zh: self.zh.clone(),
                pt: self.pt.clone(),
                en: self.en.clone(),
            },
        }
    }
}

/// The issuer's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the issuer's public endpoints are reached (status lists, trust bundle, CRLs).
    pub public_url: String,
    /// The verification page the QR code opens. `issuer serve` serves the page at `/verify`
    /// and, when this URL is on the issuer's own origin, at its path too.
    pub verify_url: String,
    /// Where PDFs are verified (a department's `verifier serve` page), linked from the
    /// issuer's verification page, which verifies QR codes only. Optional.
    #[serde(default)]
    pub pdf_verifier_url: Option<String>,
    /// Entries per status list.
    pub status_list_size: u32,
    /// How often `issuer serve` looks for status changes to republish (SPEC §4: within 60 s).
    #[serde(default = "default_status_poll_seconds")]
    pub status_poll_seconds: u64,
    /// The issuing authority as printed.
    pub authority: Trilingual,
    /// Usages of the certificate.
    pub usages: Vec<CodedEntry>,
    /// Departments that may receive transfer copies (seeds the department registry).
    pub departments: Vec<CodedEntry>,
    /// The online application (SPEC §2).
    #[serde(default)]
    pub application: ApplicationConfig,
    /// Pluggable providers: identity, face match, SMS, payment.
    #[serde(default)]
    pub providers: ProvidersConfig,
    /// Working days, holidays and collection times.
    #[serde(default)]
    pub calendar: crate::rules::calendar::CalendarConfig,
    /// The production identity provider (`providers.identity = "oidc"`).
    #[serde(default)]
    pub oidc: Option<crate::identity::oidc::OidcConfig>,
    /// Connection limits of `issuer serve`.
    #[serde(default)]
    pub server: ServerConfig,
    /// The bureau's archive copy of each certificate.
    #[serde(default)]
    pub archive: ArchiveConfig,
    /// Where each online role's key lives (`[keys.<role>]`; files when absent).
    #[serde(default)]
    pub keys: crate::setup::keystore::KeysConfig,
}

/// The bureau's archive copy (SPEC §3: it may be extended to B-LTA).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    /// Keep, beside each issued certificate, a copy extended with a document time-stamp from
    /// the bureau's TSA (PAdES B-LTA), made in the same transaction as the issuance;
    /// `issuer archive CERT_NO --out FILE` writes it out. The holder's copy stays B-LT. Off by
    /// default: it costs one more time-stamp and a second PDF per certificate.
    pub document_timestamp: bool,
}

/// Connection limits of `issuer serve` (see `ccr_web::serve`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Time a client has to send a complete request header, in milliseconds (100..300000).
    pub header_read_timeout_ms: u64,
    /// Most connections open at once (1..65536); past it, 503 and closed.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let limits = ccr_web::ConnectionLimits::default();
        Self {
            header_read_timeout_ms: u64::try_from(limits.header_read_timeout.as_millis())
                .unwrap_or(u64::MAX),
            max_connections: limits.max_connections,
        }
    }
}

impl ServerConfig {
    /// The limits, checked against their ranges.
    pub fn limits(&self) -> Result<ccr_web::ConnectionLimits, String> {
        ccr_web::ConnectionLimits::new(
            std::time::Duration::from_millis(self.header_read_timeout_ms),
            self.max_connections,
        )
        .map_err(|e| format!("server: {e}"))
    }
}

/// Rules and limits of the online application.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApplicationConfig {
    /// Standard fee per certificate, in avos (1 MOP = 100 avos).
    pub standard_fee_avos: i64,
    /// Express fee per certificate, in avos.
    pub express_fee_avos: i64,
    /// Most certificates in one application.
    pub max_quantity: i64,
    /// Collection sites for paper certificates.
    pub collection_sites: Vec<CodedEntry>,
    /// Largest JSON request body.
    pub max_json_bytes: usize,
    /// Largest upload body (face image, supporting documents; base64 inside JSON).
    pub max_upload_bytes: usize,
    /// Largest single supporting document or face image, decoded.
    pub max_document_bytes: usize,
    /// Most supporting documents in one request.
    pub max_documents: usize,
    /// Keys each sign-in limit table tracks (per name and address, per address, per name);
    /// when full, the least recently used are forgotten, so memory stays bounded and a
    /// flood of names refuses nobody (`auth::SignInLimits`).
    pub sign_in_tracked_keys: usize,
    /// Applicant session lifetime, minutes.
    pub applicant_session_minutes: i64,
    /// How long a portal session may go unused before it ends, seconds (the pages warn two
    /// minutes before; WCAG 2.2.1).
    pub portal_idle_seconds: i64,
    /// How long a back-office or department-portal session may go unused, seconds (shorter
    /// than the applicants': these sessions open registry data).
    pub back_office_idle_seconds: i64,
    /// Staff session lifetime, minutes.
    pub staff_session_minutes: i64,
    /// Department session lifetime, minutes.
    pub department_session_minutes: i64,
    /// Issuance workers running at once.
    pub issuance_workers: usize,
    /// How long a worker holds a claimed job before another may take it over, seconds
    /// (after a crash, the job waits at most this long).
    pub issuance_lease_seconds: i64,
    /// Attempts an issuance job gets before it is marked failed (a permanent error, e.g. a
    /// page that cannot be rendered, fails it at once).
    pub issuance_max_attempts: i64,
    /// First wait before a failed attempt is retried, seconds; doubled per attempt, at most
    /// five minutes.
    pub issuance_backoff_seconds: i64,
}

impl Default for ApplicationConfig {
    fn default() -> Self {
        let site = |code: &str, zh: &str, pt: &str, en: &str| CodedEntry {
            code: code.into(),
            zh: zh.into(),
            pt: pt.into(),
            en: en.into(),
        };
        Self {
            standard_fee_avos: 5_000,
            express_fee_avos: 15_000,
            max_quantity: 10,
            collection_sites: vec![
                site(
                    "DSI_HQ",
                    "身份證明局總部（中華廣場）",
                    "Sede da DSI (Edifício China Plaza)",
                    "DSI headquarters (China Plaza)",
                ),
                site(
                    "CSG_AREIA_PRETA",
                    "澳門政府綜合服務中心（黑沙環）",
                    "Centro de Serviços da RAEM (Areia Preta)",
                    "Macao Government Services Centre (Areia Preta)",
                ),
                site(
                    "CSG_ISLANDS",
                    "離島政府綜合服務中心",
                    "Centro de Serviços da RAEM das Ilhas",
                    "Government Services Centre in the Islands",
                ),
                site(
                    "SMART_LOCKER",
                    "政府自助服務站「智能櫃」",
                    "Cacifo inteligente do Governo",
                    "Government Smart Locker (Smart Collect)",
                ),
            ],
            max_json_bytes: 64 * 1024,
            max_upload_bytes: 8 * 1024 * 1024,
            max_document_bytes: 2 * 1024 * 1024,
            max_documents: 5,
            sign_in_tracked_keys: crate::identity::auth::DEFAULT_TRACKED_KEYS,
            applicant_session_minutes: 30,
            portal_idle_seconds: 20 * 60,
            back_office_idle_seconds: 10 * 60,
            staff_session_minutes: 8 * 60,
            department_session_minutes: 60,
            issuance_workers: 2,
            issuance_lease_seconds: 60,
            issuance_max_attempts: 8,
            issuance_backoff_seconds: 2,
        }
    }
}

/// Which implementation serves each pluggable part. `development` providers are for the
/// embedded default only: they accept anyone who claims an identity, pass any face image
/// and keep SMS messages in a readable outbox.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProvidersConfig {
    /// `development` or `oidc`.
    pub identity: String,
    /// `development` (production face-match services plug in here).
    pub face: String,
    /// `outbox` (kept for reading in development) or `webhook`.
    pub sms: String,
    /// For `sms = "webhook"`: where each message is POSTed as JSON.
    pub sms_webhook_url: Option<String>,
    /// `sandbox` (the built-in test gateway).
    pub payment: String,
    /// Callbacks older than this are refused (replay window), seconds.
    pub payment_callback_tolerance_seconds: i64,
}

impl Default for ProvidersConfig {
    fn default() -> Self {
        Self {
            identity: "development".into(),
            face: "development".into(),
            sms: "outbox".into(),
            sms_webhook_url: None,
            payment: "sandbox".into(),
            payment_callback_tolerance_seconds: 300,
        }
    }
}

impl ProvidersConfig {
    /// Whether any development provider is configured (announced at start-up).
    pub fn any_development(&self) -> bool {
        self.identity == "development"
            || self.face == "development"
            || self.sms == "outbox"
            || self.payment == "sandbox"
    }
}

fn default_status_poll_seconds() -> u64 {
    20
}

impl Config {
    /// Parses and checks `issuer.toml`.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        if !(1..=60).contains(&config.status_poll_seconds) {
            return Err(
                "status_poll_seconds must be between 1 and 60 (SPEC §4: republish within 60 s)"
                    .into(),
            );
        }
        if config.status_list_size < MIN_STATUS_LIST_SIZE
            || !config.status_list_size.is_multiple_of(4)
        {
            return Err(format!(
                "status_list_size must be a multiple of 4 and at least {MIN_STATUS_LIST_SIZE}"
            ));
        }
        config.check_application()?;
        config.server.limits()?;
        Ok(config)
    }

    fn check_application(&self) -> Result<(), String> {
        let a = &self.application;
        if !(1..=1_000).contains(&a.max_quantity) {
            return Err("application.max_quantity must be between 1 and 1000".into());
        }
        if a.standard_fee_avos < 0 || a.express_fee_avos < 0 {
            return Err("fees cannot be negative".into());
        }
        if !(125..=86_400).contains(&a.portal_idle_seconds) {
            return Err("application.portal_idle_seconds must be between 125 and 86400".into());
        }
        if !(125..=86_400).contains(&a.back_office_idle_seconds) {
            return Err(
                "application.back_office_idle_seconds must be between 125 and 86400".into(),
            );
        }
        if !(1..=3_600).contains(&a.issuance_lease_seconds) {
            return Err("application.issuance_lease_seconds must be between 1 and 3600".into());
        }
        if !(1..=100).contains(&a.issuance_max_attempts) {
            return Err("application.issuance_max_attempts must be between 1 and 100".into());
        }
        if !(1..=300).contains(&a.issuance_backoff_seconds) {
            return Err("application.issuance_backoff_seconds must be between 1 and 300".into());
        }
        if a.issuance_workers == 0 || a.issuance_workers > 64 {
            return Err("application.issuance_workers must be between 1 and 64".into());
        }
        let p = &self.providers;
        if !["development", "oidc"].contains(&p.identity.as_str()) {
            return Err(format!(
                "providers.identity {:?}: use development or oidc",
                p.identity
            ));
        }
        if p.identity == "oidc" && self.oidc.is_none() {
            return Err("providers.identity = \"oidc\" needs an [oidc] section".into());
        }
        if p.face != "development" {
            return Err(format!(
                "providers.face {:?}: only development is built in",
                p.face
            ));
        }
        match p.sms.as_str() {
            "outbox" => {}
            "webhook" if p.sms_webhook_url.is_some() => {}
            other => {
                return Err(format!(
                    "providers.sms {other:?}: use outbox, or webhook with sms_webhook_url"
                ));
            }
        }
        if p.payment != "sandbox" {
            return Err(format!(
                "providers.payment {:?}: only sandbox is built in",
                p.payment
            ));
        }
        if let Some(url) = &self.pdf_verifier_url
            && ccr_web::verify_page::origin(url).is_none()
        {
            return Err(format!(
                "pdf_verifier_url {url:?}: an http(s) URL of a verification page"
            ));
        }
        crate::rules::calendar::Calendar::new(&self.calendar)
            .map_err(|e| format!("calendar: {e}"))?;
        Ok(())
    }

    /// The collection site with this code.
    pub fn collection_site(&self, code: &str) -> Option<&CodedEntry> {
        self.application
            .collection_sites
            .iter()
            .find(|s| s.code == code)
    }

    /// The URI of status list `id`.
    pub fn status_list_uri(&self, id: i64) -> String {
        format!("{}/status/{id}", self.public_url.trim_end_matches('/'))
    }

    /// The usage with this code.
    pub fn usage(&self, code: &str) -> Option<&CodedEntry> {
        self.usages.iter().find(|u| u.code == code)
    }

    /// The usages as published in the trust bundle and to the verification page, so a
    /// token's usage code is shown by its name.
    pub fn published_usages(&self) -> Vec<ccr_pki::bundle::Usage> {
        self.usages
            .iter()
            .take(ccr_pki::bundle::MAX_USAGES)
            .map(|u| ccr_pki::bundle::Usage {
                code: u.code.clone(),
                zh: u.zh.clone(),
                pt: u.pt.clone(),
                en: u.en.clone(),
            })
            .collect()
    }
}

/// The configuration written by `issuer init`.
pub fn default_toml(public_url: &str) -> String {
    let base = public_url.trim_end_matches('/');
    format!(
        r#"# Issuer configuration. Edit and restart; `issuer init` wrote the defaults.
public_url = "{base}"
verify_url = "{base}/verify"
# The issuer's page verifies QR codes only; it links to a department's verifier for PDFs:
# pdf_verifier_url = "https://verify.example.gov.mo/verify"
status_list_size = {MIN_STATUS_LIST_SIZE}
# `issuer serve` re-signs a status list within this many seconds of a change (at most 60).
status_poll_seconds = 20

[authority]
zh = "澳門特別行政區政府身份證明局"
pt = "Direcção dos Serviços de Identificação"
en = "Identification Services Bureau"

[[usages]]
code = "EMPLOYMENT"
zh = "就業"
pt = "Emprego"
en = "Employment"

[[usages]]
code = "RESIDENCE"
zh = "居留 / 移民"
pt = "Residência / imigração"
en = "Residence / immigration"

[[usages]]
code = "STUDY"
zh = "升學"
pt = "Estudos"
en = "Study"

[[usages]]
code = "VISA"
zh = "申請外地簽證"
pt = "Visto para o exterior"
en = "Visa abroad"

[[usages]]
code = "LICENCE"
zh = "專業執照"
pt = "Licença profissional"
en = "Professional licence"

[[usages]]
code = "ADOPTION"
zh = "收養"
pt = "Adopção"
en = "Adoption"

[[usages]]
code = "OTHER"
zh = "其他"
pt = "Outros fins"
en = "Other"

[[departments]]
code = "DSAL"
zh = "勞工事務局"
pt = "Direcção dos Serviços para os Assuntos Laborais"
en = "Labour Affairs Bureau"

[[departments]]
code = "PSP"
zh = "治安警察局"
pt = "Corpo de Polícia de Segurança Pública"
en = "Public Security Police Force"

[[departments]]
code = "IPIM"
zh = "澳門貿易投資促進局"
pt = "Instituto de Promoção do Comércio e do Investimento de Macau"
en = "Macao Trade and Investment Promotion Institute"

# The online application (defaults shown; see README).
[application]
standard_fee_avos = 5000
express_fee_avos = 15000
max_quantity = 10

# DEVELOPMENT providers: anyone may sign in by naming themselves, any face image passes,
# SMS messages stay in a readable outbox, payments go through the built-in sandbox gateway.
# Replace them before production (identity = "oidc" with an [oidc] section).
[providers]
identity = "development"
face = "development"
sms = "outbox"
payment = "sandbox"

# The bureau's archive copy: also keep each certificate extended to PAdES B-LTA by a document
# time-stamp (`issuer archive CERT_NO --out FILE` writes it out). Off by default.
# [archive]
# document_timestamp = true
"#
    )
}
