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
    /// The verification page the QR code opens.
    pub verify_url: String,
    /// Entries per status list.
    pub status_list_size: u32,
    /// How often `issuer serve` looks for status changes to republish (SPEC §4: within 60 s).
    #[serde(default = "default_status_poll_seconds")]
    pub status_poll_seconds: u64,
    /// The issuing authority as printed.
    pub authority: Trilingual,
    /// Usages of the certificate.
    pub usages: Vec<CodedEntry>,
    /// Departments that may receive transfer copies.
    pub departments: Vec<CodedEntry>,
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
        Ok(config)
    }

    /// The URI of status list `id`.
    pub fn status_list_uri(&self, id: i64) -> String {
        format!("{}/status/{id}", self.public_url.trim_end_matches('/'))
    }

    /// The usage with this code.
    pub fn usage(&self, code: &str) -> Option<&CodedEntry> {
        self.usages.iter().find(|u| u.code == code)
    }

    /// The department with this code.
    pub fn department(&self, code: &str) -> Option<&CodedEntry> {
        self.departments.iter().find(|d| d.code == code)
    }
}

/// The configuration written by `issuer init`.
pub fn default_toml(public_url: &str) -> String {
    let base = public_url.trim_end_matches('/');
    format!(
        r#"# Issuer configuration. Edit and restart; `issuer init` wrote the defaults.
public_url = "{base}"
verify_url = "{base}/verify"
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
"#
    )
}
