//! The fixed trilingual wording printed on every certificate.
//!
//! Every character here must be in the shipped font; `make-subset.py` keeps the Chinese ones
//! (`FIXED_TEXT`) and a unit test checks the whole list against the font.

use ccr_pki::document::DocumentType;

/// A fixed text in Traditional Chinese, Portuguese and English.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tri {
    pub(crate) zh: &'static str,
    pub(crate) pt: &'static str,
    pub(crate) en: &'static str,
}

const fn tri(zh: &'static str, pt: &'static str, en: &'static str) -> Tri {
    Tri { zh, pt, en }
}

pub(crate) const BUREAU: Tri = tri(
    "澳門特別行政區政府身份證明局",
    "Direcção dos Serviços de Identificação",
    "Identification Services Bureau",
);
pub(crate) const TITLE: Tri = tri(
    "刑事紀錄證明書",
    "Certificado de Registo Criminal",
    "Certificate of Criminal Record",
);
pub(crate) const CONTINUED: Tri = tri("（續）", "(continuação)", "(continued)");

pub(crate) const CERT_NO: Tri = tri("證明書編號", "N.º do certificado", "Certificate No.");
pub(crate) const NAME_LATIN: Tri = tri(
    "姓名（拉丁字母）",
    "Nome (caracteres latinos)",
    "Name (Latin script)",
);
pub(crate) const NAME_CHINESE: Tri = tri(
    "中文姓名",
    "Nome em caracteres chineses",
    "Name in Chinese characters",
);
pub(crate) const DATE_OF_BIRTH: Tri = tri("出生日期", "Data de nascimento", "Date of birth");
pub(crate) const IDENTITY_DOCUMENT: Tri = tri(
    "身份證明文件",
    "Documento de identificação",
    "Identity document",
);
pub(crate) const USAGE: Tri = tri("用途", "Finalidade", "Purpose");
pub(crate) const RECORD: Tri = tri("刑事紀錄", "Registo criminal", "Criminal record");
pub(crate) const NOTHING_ON_RECORD: Tri = tri("沒有刑事紀錄", "Nada consta", "No criminal record");
pub(crate) const ISSUED_AT: Tri = tri(
    "發出日期及時間",
    "Data e hora de emissão",
    "Date and time of issue",
);
pub(crate) const VALID_UNTIL: Tri = tri("有效期至", "Válido até", "Valid until");
pub(crate) const MACAO_TIME: Tri = tri("澳門時間", "hora de Macau", "Macao time");
pub(crate) const AUTHORITY: Tri = tri("發出機關", "Entidade emissora", "Issuing authority");
pub(crate) const TRANSFER_TO: Tri = tri("轉交部門", "Serviço destinatário", "Transferred to");

pub(crate) const ENTRY: Tri = tri("紀錄", "Registo", "Entry");
pub(crate) const COURT: Tri = tri("法院", "Tribunal", "Court");
pub(crate) const CASE_NUMBER: Tri = tri("案件編號", "N.º do processo", "Case No.");
pub(crate) const DECISION_DATE: Tri = tri("判決日期", "Data da decisão", "Date of decision");
pub(crate) const OFFENCE: Tri = tri("罪名", "Crime", "Offence");
pub(crate) const SENTENCE: Tri = tri("刑罰", "Pena", "Sentence");

pub(crate) const SIGNED_BY: Tri = tri(
    "電子簽署人",
    "Assinado electronicamente por",
    "Electronically signed by",
);
pub(crate) const SIGNED_AT: Tri = tri("簽署時間", "Data e hora da assinatura", "Signing time");
pub(crate) const LEGAL_EFFECT: Tri = tri(
    "本電子證明書與紙本證明書具同等法律效力。",
    "O certificado electrónico tem o mesmo valor legal que o certificado em papel.",
    "This electronic certificate has the same legal effect as the printed certificate.",
);

/// The printed names of an identity document type.
pub(crate) fn document_type(kind: DocumentType) -> Tri {
    match kind {
        DocumentType::Bir => tri(
            "澳門特別行政區居民身份證",
            "Bilhete de Identidade de Residente da RAEM",
            "Macao SAR Resident Identity Card",
        ),
        DocumentType::Ti => tri(
            "外地僱員身份認別證",
            "Título de Identificação de Trabalhador Não-Residente",
            "Non-resident Worker's Identification Card",
        ),
        DocumentType::Passport => tri(
            "護照或其他旅行證件",
            "Passaporte ou outro documento de viagem",
            "Passport or other travel document",
        ),
    }
}

/// "N entries on record", in the three languages.
pub(crate) fn records_intro(n: usize) -> [String; 3] {
    if n == 1 {
        [
            "載有以下一項紀錄：".to_owned(),
            "Consta o seguinte registo:".to_owned(),
            "The following entry is on record:".to_owned(),
        ]
    } else {
        [
            format!("載有以下 {n} 項紀錄："),
            format!("Constam os seguintes {n} registos:"),
            format!("The following {n} entries are on record:"),
        ]
    }
}

/// How to verify, in the three languages; `url` is where a PDF can be checked.
pub(crate) fn verify_instructions(url: &str) -> [String; 3] {
    [
        format!("核實方法：以手機掃描左方二維碼，或於 {url} 上載本 PDF 檔案。"),
        format!(
            "Verificação: leia o código QR com o telemóvel ou carregue este ficheiro PDF em {url}"
        ),
        format!("To verify: scan the QR code with a phone, or upload this PDF file at {url}"),
    ]
}

/// The page footer.
pub(crate) fn page_of(page: usize, pages: usize, number: &str) -> String {
    format!(
        "{number}  ·  第 {page} 頁，共 {pages} 頁  ·  Página {page} de {pages}  ·  Page {page} of {pages}"
    )
}

/// Every fixed text, for the coverage test.
#[cfg(test)]
pub(crate) fn all_fixed() -> Vec<String> {
    let tris = [
        BUREAU,
        TITLE,
        CONTINUED,
        CERT_NO,
        NAME_LATIN,
        NAME_CHINESE,
        DATE_OF_BIRTH,
        IDENTITY_DOCUMENT,
        USAGE,
        RECORD,
        NOTHING_ON_RECORD,
        ISSUED_AT,
        VALID_UNTIL,
        MACAO_TIME,
        AUTHORITY,
        TRANSFER_TO,
        ENTRY,
        COURT,
        CASE_NUMBER,
        DECISION_DATE,
        OFFENCE,
        SENTENCE,
        SIGNED_BY,
        SIGNED_AT,
        LEGAL_EFFECT,
        document_type(DocumentType::Bir),
        document_type(DocumentType::Ti),
        document_type(DocumentType::Passport),
    ];
    let mut all: Vec<String> = tris
        .iter()
        .flat_map(|t| [t.zh.to_owned(), t.pt.to_owned(), t.en.to_owned()])
        .collect();
    all.extend(records_intro(1));
    all.extend(records_intro(7));
    all.extend(verify_instructions("https://example.org/verify"));
    all.push(page_of(1, 2, "CCR-0"));
    all.push("0123456789-:() +.·/".to_owned());
    all
}
