//! **Test data only.** Sample certificates for unit tests, benches and tests in other crates.
//! Nothing here describes a real person; never use it to issue a certificate.

use ccr_pki::document::{
    CertificateData, Coded, DocumentType, Holder, IdentityDocument, RecordEntry, StatusReference,
    Trilingual,
};
use time::macros::{date, datetime};

/// A Chinese name with an HKSCS character (𨋢, U+282E2).
pub const CHINESE_NAME_HKSCS: &str = "陳𨋢文";
/// The Latin-script name that goes with [`CHINESE_NAME_HKSCS`].
pub const LATIN_NAME_CHAN: &str = "CHAN LIP MAN";
/// A Portuguese name with diacritics.
pub const PORTUGUESE_NAME: &str = "JOÃO CONCEIÇÃO GONÇALVES";
/// A Vietnamese name with stacked diacritics.
pub const VIETNAMESE_NAME: &str = "NGUYỄN THỊ MINH KHAI";

fn tri(zh: &str, pt: &str, en: &str) -> Trilingual {
    Trilingual {
        zh: zh.to_owned(),
        pt: pt.to_owned(),
        en: en.to_owned(),
    }
}

/// The bureau as issuing authority.
pub fn authority() -> Trilingual {
    tri(
        "澳門特別行政區政府身份證明局",
        "Direcção dos Serviços de Identificação",
        "Identification Services Bureau",
    )
}

/// A resident with the HKSCS Chinese name, nothing on record, for employment.
pub fn sample_certificate() -> CertificateData {
    sample_certificate_named(LATIN_NAME_CHAN, Some(CHINESE_NAME_HKSCS))
}

/// The sample certificate with other names.
pub fn sample_certificate_named(latin: &str, chinese: Option<&str>) -> CertificateData {
    let issued_at = datetime!(2026-11-21 10:30:15 +08:00);
    CertificateData {
        number: "CCR-2026-000123".to_owned(),
        holder: Holder {
            name_latin: latin.to_owned(),
            name_chinese: chinese.map(str::to_owned),
            date_of_birth: date!(1990 - 01 - 31),
            document: IdentityDocument {
                kind: DocumentType::Bir,
                number: "1234567(8)".to_owned(),
            },
        },
        usage: Coded {
            code: "EMPLOYMENT".to_owned(),
            name: tri("就業", "Emprego", "Employment"),
        },
        records: Vec::new(),
        transfer_to: None,
        issued_at,
        valid_until: ccr_pki::validity::valid_until(issued_at),
        authority: authority(),
        status: StatusReference {
            uri: "http://127.0.0.1:8080/status/1".to_owned(),
            idx: 48_213,
        },
    }
}

/// The sample as a transfer copy to the Labour Affairs Bureau.
pub fn sample_transfer_copy() -> CertificateData {
    let mut data = sample_certificate();
    data.transfer_to = Some(Coded {
        code: "DSAL".to_owned(),
        name: tri(
            "勞工事務局",
            "Direcção dos Serviços para os Assuntos Laborais",
            "Labour Affairs Bureau",
        ),
    });
    data
}

/// The sample with `n` record entries.
pub fn sample_with_records(n: usize) -> CertificateData {
    let mut data = sample_certificate_named(VIETNAMESE_NAME, None);
    data.holder.document = IdentityDocument {
        kind: DocumentType::Ti,
        number: "T1234567".to_owned(),
    };
    data.records = (1..=n)
        .map(|i| RecordEntry {
            court: "初級法院 / Tribunal Judicial de Base / Court of First Instance".to_owned(),
            case_number: format!("CR{}-24-{:04}-PCS", i % 5 + 1, 100 + i),
            decision_date: date!(2024 - 03 - 15),
            offence: "普通傷害身體完整性罪 / Ofensa simples à integridade física / Simple offence against physical integrity".to_owned(),
            sentence: "罰金 120 日，日額 MOP 100.00 / Multa de 120 dias à taxa diária de MOP 100.00 / Fine of 120 days at MOP 100.00 per day".to_owned(),
        })
        .collect();
    data
}
