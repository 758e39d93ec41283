//! The application's states and the domain rules that go with them (SPEC §2): fees in avos,
//! fee exemptions and the documents each one needs.
//!
//! ```text
//! SELECTED ─confirm→ CONFIRMED ─otp+face→ IDENTIFIED ─pay→ SUBMITTED ─clerk→ CHECKED ─officer→ APPROVED ─jobs→ ISSUED
//!                                             │  ↑ refused          │  ↑            │                              │ paper
//!                                     exemption  │                   ▼  │ answered     ▼                              ▼
//!                                   EXEMPTION_REQUESTED ─approved→ SUBMITTED  INFORMATION_REQUESTED     REJECTED   COLLECTED
//! ```

/// Step 1 done: what is asked for.
pub const SELECTED: &str = "SELECTED";
/// Step 2 done: the applicant's data and consent.
pub const CONFIRMED: &str = "CONFIRMED";
/// Step 3 done: one-time password and face check passed.
pub const IDENTIFIED: &str = "IDENTIFIED";
/// A fee exemption awaits a clerk's decision.
pub const EXEMPTION_REQUESTED: &str = "EXEMPTION_REQUESTED";
/// Step 4 done (paid or exempted): waiting for review; the pledge clock runs.
pub const SUBMITTED: &str = "SUBMITTED";
/// Staff asked the applicant for more information.
pub const INFORMATION_REQUESTED: &str = "INFORMATION_REQUESTED";
/// A clerk checked it and passed it to an officer.
pub const CHECKED: &str = "CHECKED";
/// An officer approved it: issuance jobs are queued.
pub const APPROVED: &str = "APPROVED";
/// Every certificate is issued.
pub const ISSUED: &str = "ISSUED";
/// A paper certificate was collected.
pub const COLLECTED: &str = "COLLECTED";
/// Refused by staff.
pub const REJECTED: &str = "REJECTED";

/// Every state, for schemas and validation of queue filters.
pub const STATES: [&str; 11] = [
    SELECTED,
    CONFIRMED,
    IDENTIFIED,
    EXEMPTION_REQUESTED,
    SUBMITTED,
    INFORMATION_REQUESTED,
    CHECKED,
    APPROVED,
    ISSUED,
    COLLECTED,
    REJECTED,
];

/// The certificate request an application stands for: the confirmed holder, the usage and
/// transfer chosen, and the record entries snapshotted at approval. It passes the same
/// validation as a request given to `issuer issue`.
pub fn certificate_request(
    app: &crate::store::applications::ApplicationRow,
) -> Result<crate::rules::request::CertificateRequest, crate::rules::request::RequestError> {
    use crate::rules::request::{CertificateRequest, Language, RequestError};
    let missing = |what: &str| RequestError::Shape(format!("application {}: no {what}", app.id));
    let holder = serde_json::from_str(
        app.holder_json
            .as_deref()
            .ok_or_else(|| missing("holder"))?,
    )
    .map_err(|e| RequestError::Shape(format!("stored holder: {e}")))?;
    let records = match &app.records_json {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| RequestError::Shape(format!("stored records: {e}")))?,
        None => Vec::new(),
    };
    let language = app
        .language
        .as_deref()
        .and_then(Language::parse)
        .ok_or_else(|| missing("language"))?;
    Ok(CertificateRequest {
        holder,
        usage: app.usage.clone(),
        language,
        express: app.express != 0,
        records,
        transfer_to: app.transfer_to.clone(),
    })
}

/// What the identity checks of step 3 prove: the holder data and the mobile number confirmed
/// at step 2. A check counts only while the application still has the fingerprint it proved,
/// so changing either after a check clears it.
pub fn identity_fingerprint(holder_json: &str, mobile: &str) -> String {
    crate::store::sha256_hex(format!("{holder_json}\n{mobile}").as_bytes())
}

/// Whether an identity check recorded as proving `proved` still holds for the application's
/// current holder and mobile.
pub fn identity_check_holds(
    proved: Option<&str>,
    holder_json: Option<&str>,
    mobile: Option<&str>,
) -> bool {
    match (proved, holder_json, mobile) {
        (Some(proved), Some(holder), Some(mobile)) => {
            proved == identity_fingerprint(holder, mobile)
        }
        _ => false,
    }
}

/// The fee of an application in avos: unit price × quantity, or `None` on overflow.
pub fn fee_avos(standard: i64, express_fee: i64, express: bool, quantity: i64) -> Option<i64> {
    let unit = if express { express_fee } else { standard };
    unit.checked_mul(quantity)
}

/// A fee exemption (seed 001): each needs its own supporting documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exemption {
    /// Long-term unemployment.
    Unemployment,
    /// Beneficiary of the Social Welfare Bureau.
    Poverty,
    /// Registered disability.
    Disability,
}

impl Exemption {
    /// Every exemption.
    pub const ALL: [Self; 3] = [Self::Unemployment, Self::Poverty, Self::Disability];

    /// Every document code some exemption requires, once each.
    pub fn document_codes() -> Vec<&'static str> {
        let mut codes: Vec<&'static str> = Vec::new();
        for code in Self::ALL.iter().flat_map(|e| e.required_documents()) {
            if !codes.contains(code) {
                codes.push(code);
            }
        }
        codes
    }

    /// Parses the code used in requests.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "UNEMPLOYMENT" => Some(Self::Unemployment),
            "POVERTY" => Some(Self::Poverty),
            "DISABILITY" => Some(Self::Disability),
            _ => None,
        }
    }

    /// The code used in requests.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unemployment => "UNEMPLOYMENT",
            Self::Poverty => "POVERTY",
            Self::Disability => "DISABILITY",
        }
    }

    /// The supporting documents the bureau's page requires (every one must be supplied).
    pub fn required_documents(self) -> &'static [&'static str] {
        match self {
            // Signed exemption form, signed declaration of unemployment, and DSAL employment
            // registration receipts of the past 12 months.
            Self::Unemployment => &[
                "EXEMPTION_FORM",
                "UNEMPLOYMENT_DECLARATION",
                "DSAL_REGISTRATION_RECEIPTS",
            ],
            // Signed form and a copy of a valid IAS beneficiary card.
            Self::Poverty => &["EXEMPTION_FORM", "IAS_BENEFICIARY_CARD"],
            // Signed form and a copy of a valid disability assessment registration card.
            Self::Disability => &["EXEMPTION_FORM", "DISABILITY_REGISTRATION_CARD"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_are_unit_price_times_quantity_in_avos() {
        assert_eq!(fee_avos(5_000, 15_000, false, 1), Some(5_000));
        assert_eq!(fee_avos(5_000, 15_000, true, 3), Some(45_000));
        assert_eq!(fee_avos(5_000, 15_000, true, i64::MAX), None);
    }

    #[test]
    fn exemptions_name_their_documents() {
        for code in ["UNEMPLOYMENT", "POVERTY", "DISABILITY"] {
            let e = Exemption::parse(code).expect("known");
            assert_eq!(e.code(), code);
            assert!(e.required_documents().contains(&"EXEMPTION_FORM"));
        }
        assert_eq!(Exemption::parse("RICH"), None);
    }
}
