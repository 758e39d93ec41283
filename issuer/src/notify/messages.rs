//! SMS notifications to applicants (and to receiving departments) in Traditional Chinese,
//! Portuguese and English.
//!
//! Every body starts with the bureau's short name (`身份證明局：` or `DSI: `), and carries only
//! the application reference and certificate numbers: never the applicant's name, date of
//! birth or document number, because an SMS is not private. Dates print as `YYYY-MM-DD` and
//! times as `HH:MM` in Macao time (UTC+8) in every language. Portuguese follows the
//! orthography used by the Macao government ("Direcção", "electrónico").
//!
//! Free text written by staff (reasons, requests for information) and names of sites and
//! departments are put on one line and, if a body would exceed [`MAX_BODY_CHARS`], shortened
//! with an ellipsis so the message still fits.

use serde::Serialize;
use time::macros::offset;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::rules::request::Language;

/// Longest body [`render`] aims for, in characters (Unicode scalar values).
pub const MAX_BODY_CHARS: usize = 300;

/// Macao time.
const MACAO: UtcOffset = offset!(+8);
/// How long a certificate is valid, as stated to the applicant.
const CERTIFICATE_VALIDITY_DAYS: u32 = 90;

/// A rendered notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Short title, for channels that have one (e-mail, the online service's inbox).
    pub subject: String,
    /// SMS text, prefixed with the bureau's short name.
    pub body: String,
}

/// Something the applicant (or a receiving department) is told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// One-time password for the application.
    OtpCode {
        /// The password.
        code: &'a str,
        /// Minutes it stays valid.
        minutes_valid: u32,
    },
    /// The application was received and the fee paid or exempted.
    ApplicationSubmitted {
        /// Application reference.
        reference: &'a str,
        /// Fee paid, in avos; 0 when exempted.
        amount_avos: i64,
        /// Date the performance pledge promises completion by.
        due_date: Date,
        /// Express processing.
        express: bool,
    },
    /// The fee exemption was granted.
    ExemptionApproved {
        /// Application reference.
        reference: &'a str,
    },
    /// The fee exemption was refused; the fee must be paid to continue.
    ExemptionRefused {
        /// Application reference.
        reference: &'a str,
        /// Why, as written by staff.
        reason: &'a str,
    },
    /// Staff need more information or documents; the pledge restarts when received.
    InformationRequested {
        /// Application reference.
        reference: &'a str,
        /// What is needed, as written by staff.
        message: &'a str,
    },
    /// The application was approved.
    ApplicationApproved {
        /// Application reference.
        reference: &'a str,
    },
    /// The application was rejected.
    ApplicationRejected {
        /// Application reference.
        reference: &'a str,
        /// Why, as written by staff.
        reason: &'a str,
    },
    /// Electronic certificates are ready to download.
    CertificateIssued {
        /// Application reference.
        reference: &'a str,
        /// Certificate numbers.
        numbers: &'a [String],
        /// Last day of validity.
        valid_until: Date,
    },
    /// A paper certificate is ready for collection.
    ReadyForCollection {
        /// Application reference.
        reference: &'a str,
        /// Collection site, in the notification language.
        site_name: &'a str,
        /// When collection opens.
        from: OffsetDateTime,
        /// Smart Locker deadline, after which the certificate returns to headquarters.
        locker_deadline: Option<OffsetDateTime>,
    },
    /// Printed paper certificates were placed in the Smart Locker: the collection notice with
    /// the pickup code, valid until `deadline` (3 days after this notice).
    LockerReady {
        /// Application reference.
        reference: &'a str,
        /// The locker's site, in the notification language.
        site_name: &'a str,
        /// The 8-digit pickup code.
        code: &'a str,
        /// When the code stops working and the certificate returns to headquarters.
        deadline: OffsetDateTime,
    },
    /// Certificates not collected from the Smart Locker in time are back at the headquarters
    /// counter (China Plaza), to be collected there during office hours.
    ReturnedToHeadquarters {
        /// Application reference.
        reference: &'a str,
        /// The headquarters counter, in the notification language.
        site_name: &'a str,
    },
    /// The certificate was sent directly to a government department.
    TransferredToDepartment {
        /// Application reference.
        reference: &'a str,
        /// Receiving department, in the notification language.
        department_name: &'a str,
    },
    /// Sent to a department that received a certificate: it is no longer valid.
    CertificateRevoked {
        /// Certificate number.
        number: &'a str,
    },
}

/// Renders `event` in `language`.
#[must_use]
pub fn render(event: &Event<'_>, language: Language) -> Message {
    let (subject, body) = match language {
        Language::Zh => zh(event),
        Language::Pt => pt(event),
        Language::En => en(event),
    };
    Message {
        subject: subject.to_owned(),
        body,
    }
}

/// Formats an amount in avos (1/100 pataca) with two decimals and thousands grouped:
/// zh `澳門元1,234.56`, pt `MOP 1.234,56`, en `MOP 1,234.56`; a negative amount is
/// preceded by `-` (`-MOP 5.00`).
#[must_use]
pub fn format_mop(amount_avos: i64, language: Language) -> String {
    let (prefix, group, decimal) = match language {
        Language::Zh => ("澳門元", ',', '.'),
        Language::Pt => ("MOP ", '.', ','),
        Language::En => ("MOP ", ',', '.'),
    };
    let abs = amount_avos.unsigned_abs();
    let digits = (abs / 100).to_string();
    let mut patacas = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            patacas.push(group);
        }
        patacas.push(digit);
    }
    let sign = if amount_avos < 0 { "-" } else { "" };
    format!("{sign}{prefix}{patacas}{decimal}{:02}", abs % 100)
}

fn zh(event: &Event<'_>) -> (&'static str, String) {
    const P: &str = "身份證明局：";
    match *event {
        Event::OtpCode {
            code,
            minutes_valid,
        } => (
            "一次性驗證碼",
            format!(
                "{P}閣下申請刑事紀錄證明書的一次性驗證碼為{code}，{minutes_valid}分鐘內有效。\
                 請勿向任何人透露此驗證碼，本局人員不會向閣下索取。"
            ),
        ),
        Event::ApplicationSubmitted {
            reference,
            amount_avos,
            due_date,
            express,
        } => {
            let kind = if express { "急件" } else { "" };
            let fee = if amount_avos == 0 {
                "本申請獲豁免繳費。".to_owned()
            } else {
                format!("費用{}已收妥。", format_mop(amount_avos, Language::Zh))
            };
            (
                "申請已收到",
                format!(
                    "{P}本局已收到閣下的刑事紀錄證明書{kind}申請（申請編號：{reference}）。{fee}\
                     根據服務承諾，預計於{}或之前完成處理。",
                    date(due_date)
                ),
            )
        }
        Event::ExemptionApproved { reference } => (
            "豁免繳費獲批准",
            format!(
                "{P}閣下就刑事紀錄證明書申請（申請編號：{reference}）提出的豁免繳費請求已獲批准，\
                 無須繳費，本局將繼續處理申請。"
            ),
        ),
        Event::ExemptionRefused { reference, reason } => (
            "豁免繳費不獲批准",
            fit(reason, |r| {
                format!(
                    "{P}閣下就刑事紀錄證明書申請（申請編號：{reference}）提出的豁免繳費請求不獲批准，\
                     原因：{}請繳付費用，以便本局繼續處理申請。",
                    sentence(r, '。')
                )
            }),
        ),
        Event::InformationRequested { reference, message } => (
            "請補交資料",
            fit(message, |m| {
                format!(
                    "{P}為處理閣下的刑事紀錄證明書申請（申請編號：{reference}），\
                     請補交以下資料或文件：{}本局收到所需資料後，服務承諾期將重新起計。",
                    sentence(m, '。')
                )
            }),
        ),
        Event::ApplicationApproved { reference } => (
            "申請已獲批准",
            format!(
                "{P}閣下的刑事紀錄證明書申請（申請編號：{reference}）已獲批准，\
                 本局現正製作證明書，完成後將另行通知。"
            ),
        ),
        Event::ApplicationRejected { reference, reason } => (
            "申請不獲批准",
            fit(reason, |r| {
                format!(
                    "{P}閣下的刑事紀錄證明書申請（申請編號：{reference}）不獲批准，原因：{}\
                     如有查詢，請聯絡本局。",
                    sentence(r, '。')
                )
            }),
        ),
        Event::CertificateIssued {
            reference,
            numbers,
            valid_until,
        } => (
            "證明書已簽發",
            fit_numbers(numbers, Language::Zh, |list| {
                let numbers = if list.is_empty() {
                    String::new()
                } else {
                    format!("；證明書編號：{list}")
                };
                format!(
                    "{P}閣下的電子刑事紀錄證明書（申請編號：{reference}{numbers}）已簽發，\
                     請透過本局網上服務下載。證明書有效期為{CERTIFICATE_VALIDITY_DAYS}日，至{}止。",
                    date(valid_until)
                )
            }),
        ),
        Event::ReadyForCollection {
            reference,
            site_name,
            from,
            locker_deadline,
        } => (
            "證明書可供領取",
            fit(site_name, |site| {
                let when = match locker_deadline {
                    None => format!("可於{}起到{site}領取。", date_time(from)),
                    Some(deadline) => format!(
                        "請於{}至{}期間到{site}領取；逾期未領取，證明書將轉回本局總部（中華廣場）櫃檯。",
                        date_time(from),
                        date_time(deadline)
                    ),
                };
                format!(
                    "{P}閣下的刑事紀錄證明書（申請編號：{reference}）已備妥，{when}\
                     證明書亦可由獲授權人代為領取。"
                )
            }),
        ),
        Event::LockerReady {
            reference,
            site_name,
            code,
            deadline,
        } => (
            "證明書已存放於智能櫃",
            fit(site_name, |site| {
                format!(
                    "{P}閣下的刑事紀錄證明書（申請編號：{reference}）已存放於{site}，取件碼為{code}，\
                     請於{}前領取；逾期未領取，證明書將轉回本局總部（中華廣場）櫃檯。請勿向他人透露取件碼，\
                     獲授權人可憑此碼代為領取。",
                    date_time(deadline)
                )
            }),
        ),
        Event::ReturnedToHeadquarters {
            reference,
            site_name,
        } => (
            "證明書已轉回總部櫃檯",
            fit(site_name, |site| {
                format!(
                    "{P}閣下的刑事紀錄證明書（申請編號：{reference}）未於期限內從智能櫃領取，\
                     現已轉回{site}，請於辦公時間內攜同身份證明文件領取，或由獲授權人代為領取。"
                )
            }),
        ),
        Event::TransferredToDepartment {
            reference,
            department_name,
        } => (
            "證明書已送交部門",
            fit(department_name, |department| {
                format!(
                    "{P}閣下的刑事紀錄證明書（申請編號：{reference}）已按閣下要求直接送交\
                     {department}，閣下無須領取。"
                )
            }),
        ),
        Event::CertificateRevoked { number } => (
            "證明書已撤銷",
            format!(
                "{P}貴部門早前收到的刑事紀錄證明書（編號：{number}）已被撤銷，現已失效，\
                 請勿再予採用。如有查詢，請聯絡本局。"
            ),
        ),
    }
}

fn pt(event: &Event<'_>) -> (&'static str, String) {
    const P: &str = "DSI: ";
    const CRC: &str = "Certificado de Registo Criminal";
    match *event {
        Event::OtpCode {
            code,
            minutes_valid,
        } => (
            "Código de verificação",
            format!(
                "{P}O código de verificação do seu pedido de {CRC} é {code}, válido por \
                 {minutes_valid} {}. Não o divulgue a ninguém; o pessoal da DSI nunca lho \
                 pedirá.",
                plural(minutes_valid, "minuto", "minutos")
            ),
        ),
        Event::ApplicationSubmitted {
            reference,
            amount_avos,
            due_date,
            express,
        } => {
            let kind = if express { " urgente" } else { "" };
            let fee = if amount_avos == 0 {
                "O pedido está isento do pagamento da taxa.".to_owned()
            } else {
                format!(
                    "A taxa de {} encontra-se paga.",
                    format_mop(amount_avos, Language::Pt)
                )
            };
            (
                "Pedido recebido",
                format!(
                    "{P}Foi recebido o seu pedido{kind} de {CRC} (referência {reference}). {fee} \
                     De acordo com a Carta de Qualidade, a conclusão do pedido está prevista até {}.",
                    date(due_date)
                ),
            )
        }
        Event::ExemptionApproved { reference } => (
            "Isenção da taxa deferida",
            format!(
                "{P}A isenção da taxa requerida para o seu pedido de {CRC} (referência \
                 {reference}) foi deferida. Não há lugar a pagamento e o pedido prosseguirá a sua \
                 tramitação."
            ),
        ),
        Event::ExemptionRefused { reference, reason } => (
            "Isenção da taxa indeferida",
            fit(reason, |r| {
                format!(
                    "{P}A isenção da taxa requerida para o seu pedido de {CRC} (referência \
                     {reference}) foi indeferida. Motivo: {} Para prosseguir, queira pagar a taxa.",
                    sentence(r, '.')
                )
            }),
        ),
        Event::InformationRequested { reference, message } => (
            "Pedido de elementos adicionais",
            fit(message, |m| {
                format!(
                    "{P}Para dar seguimento ao seu pedido de {CRC} (referência {reference}), queira \
                     apresentar: {} O prazo da Carta de Qualidade recomeça a contar após a \
                     recepção.",
                    sentence(m, '.')
                )
            }),
        ),
        Event::ApplicationApproved { reference } => (
            "Pedido deferido",
            format!(
                "{P}O seu pedido de {CRC} (referência {reference}) foi deferido. O certificado \
                 está em preparação; enviaremos nova mensagem logo que esteja pronto."
            ),
        ),
        Event::ApplicationRejected { reference, reason } => (
            "Pedido indeferido",
            fit(reason, |r| {
                format!(
                    "{P}O seu pedido de {CRC} (referência {reference}) foi indeferido. Motivo: {} \
                     Para qualquer esclarecimento, queira contactar a DSI.",
                    sentence(r, '.')
                )
            }),
        ),
        Event::CertificateIssued {
            reference,
            numbers,
            valid_until,
        } => (
            "Certificado emitido",
            fit_numbers(numbers, Language::Pt, |list| {
                let until = date(valid_until);
                let days = CERTIFICATE_VALIDITY_DAYS;
                if numbers.len() > 1 {
                    format!(
                        "{P}Os seus Certificados de Registo Criminal electrónicos n.os {list} \
                         (referência do pedido {reference}) foram emitidos e podem ser \
                         descarregados através dos serviços electrónicos da DSI. São válidos por \
                         {days} dias, até {until}."
                    )
                } else {
                    let number = if list.is_empty() {
                        String::new()
                    } else {
                        format!(" n.º {list}")
                    };
                    format!(
                        "{P}O seu {CRC} electrónico{number} (referência do pedido {reference}) foi \
                         emitido e pode ser descarregado através dos serviços electrónicos da DSI. \
                         É válido por {days} dias, até {until}."
                    )
                }
            }),
        ),
        Event::ReadyForCollection {
            reference,
            site_name,
            from,
            locker_deadline,
        } => (
            "Certificado pronto para levantamento",
            fit(site_name, |site| {
                let when = match locker_deadline {
                    None => format!(
                        "está disponível para levantamento em: {site}, a partir de {}.",
                        date_time(from)
                    ),
                    Some(deadline) => format!(
                        "está disponível em: {site}, de {} a {}; findo este prazo, no balcão da \
                         sede da DSI (China Plaza).",
                        date_time(from),
                        date_time(deadline)
                    ),
                };
                format!(
                    "{P}O seu {CRC} (referência {reference}) {when} Pode ser levantado por \
                     representante autorizado."
                )
            }),
        ),
        Event::LockerReady {
            reference,
            site_name,
            code,
            deadline,
        } => (
            "Certificado no cacifo inteligente",
            fit(site_name, |site| {
                format!(
                    "{P}O seu {CRC} (referência {reference}) está em: {site}. Código de \
                     levantamento {code}, válido até {}; depois, no balcão da sede da DSI \
                     (China Plaza). Só o dê a um representante autorizado.",
                    date_time(deadline)
                )
            }),
        ),
        Event::ReturnedToHeadquarters {
            reference,
            site_name,
        } => (
            "Certificado devolvido à sede",
            fit(site_name, |site| {
                format!(
                    "{P}O seu {CRC} (referência {reference}) não foi levantado do cacifo \
                     inteligente no prazo e está agora em: {site}. Levante-o durante o horário de \
                     expediente, com o documento de identificação, ou por representante autorizado."
                )
            }),
        ),
        Event::TransferredToDepartment {
            reference,
            department_name,
        } => (
            "Certificado enviado ao serviço destinatário",
            fit(department_name, |department| {
                format!(
                    "{P}Conforme solicitado, o seu {CRC} (referência {reference}) foi enviado \
                     directamente ao serviço destinatário, {department}, pelo que não necessita de \
                     o levantar."
                )
            }),
        ),
        Event::CertificateRevoked { number } => (
            "Certificado revogado",
            format!(
                "{P}Informa-se que o {CRC} n.º {number}, anteriormente enviado a esse serviço, foi \
                 revogado e deixou de ser válido, pelo que não deve ser utilizado para qualquer \
                 efeito. Para qualquer esclarecimento, queira contactar a DSI."
            ),
        ),
    }
}

fn en(event: &Event<'_>) -> (&'static str, String) {
    const P: &str = "DSI: ";
    const CCR: &str = "Certificate of Criminal Record";
    match *event {
        Event::OtpCode {
            code,
            minutes_valid,
        } => (
            "One-time password",
            format!(
                "{P}Your one-time password for the {CCR} application is {code}, valid for \
                 {minutes_valid} {}. Do not share it with anyone; DSI staff will never ask for it.",
                plural(minutes_valid, "minute", "minutes")
            ),
        ),
        Event::ApplicationSubmitted {
            reference,
            amount_avos,
            due_date,
            express,
        } => {
            let kind = if express { "express " } else { "" };
            let fee = if amount_avos == 0 {
                "This application is exempt from the fee.".to_owned()
            } else {
                format!(
                    "The fee of {} has been paid.",
                    format_mop(amount_avos, Language::En)
                )
            };
            (
                "Application received",
                format!(
                    "{P}We have received your {kind}application for a {CCR} (reference \
                     {reference}). {fee} Under our performance pledge, processing is expected to \
                     be completed by {}.",
                    date(due_date)
                ),
            )
        }
        Event::ExemptionApproved { reference } => (
            "Fee exemption approved",
            format!(
                "{P}The fee exemption requested for your {CCR} application (reference \
                 {reference}) has been approved. No payment is required and your application \
                 will continue to be processed."
            ),
        ),
        Event::ExemptionRefused { reference, reason } => (
            "Fee exemption not approved",
            fit(reason, |r| {
                format!(
                    "{P}The fee exemption requested for your {CCR} application (reference \
                     {reference}) has not been approved. Reason: {} Please pay the fee to \
                     proceed.",
                    sentence(r, '.')
                )
            }),
        ),
        Event::InformationRequested { reference, message } => (
            "Further information required",
            fit(message, |m| {
                format!(
                    "{P}To process your {CCR} application (reference {reference}), please \
                     provide: {} The performance pledge period restarts on receipt.",
                    sentence(m, '.')
                )
            }),
        ),
        Event::ApplicationApproved { reference } => (
            "Application approved",
            format!(
                "{P}Your {CCR} application (reference {reference}) has been approved. Your \
                 certificate is being prepared and we will notify you when it is ready."
            ),
        ),
        Event::ApplicationRejected { reference, reason } => (
            "Application not approved",
            fit(reason, |r| {
                format!(
                    "{P}We regret to inform you that your {CCR} application (reference \
                     {reference}) has not been approved. Reason: {} For enquiries, please \
                     contact DSI.",
                    sentence(r, '.')
                )
            }),
        ),
        Event::CertificateIssued {
            reference,
            numbers,
            valid_until,
        } => (
            "Certificate issued",
            fit_numbers(numbers, Language::En, |list| {
                let until = date(valid_until);
                let days = CERTIFICATE_VALIDITY_DAYS;
                if numbers.len() > 1 {
                    format!(
                        "{P}Your electronic Certificates of Criminal Record Nos. {list} \
                         (application reference {reference}) have been issued and can be \
                         downloaded from the DSI online service. They are valid for {days} days, \
                         until {until}."
                    )
                } else {
                    let number = if list.is_empty() {
                        String::new()
                    } else {
                        format!(" No. {list}")
                    };
                    format!(
                        "{P}Your electronic {CCR}{number} (application reference {reference}) has \
                         been issued and can be downloaded from the DSI online service. It is valid \
                         for {days} days, until {until}."
                    )
                }
            }),
        ),
        Event::ReadyForCollection {
            reference,
            site_name,
            from,
            locker_deadline,
        } => (
            "Certificate ready for collection",
            fit(site_name, |site| {
                let when = match locker_deadline {
                    None => format!(
                        "is ready for collection at: {site}, from {}.",
                        date_time(from)
                    ),
                    Some(deadline) => format!(
                        "is available at: {site}, from {} to {}; after that, at the DSI \
                         headquarters counter (China Plaza).",
                        date_time(from),
                        date_time(deadline)
                    ),
                };
                format!(
                    "{P}Your {CCR} (reference {reference}) {when} An authorised representative \
                     may collect it."
                )
            }),
        ),
        Event::LockerReady {
            reference,
            site_name,
            code,
            deadline,
        } => (
            "Certificate in the Smart Locker",
            fit(site_name, |site| {
                format!(
                    "{P}Your {CCR} (reference {reference}) is in the {site}. Pickup code \
                     {code}, valid until {}; then at the DSI headquarters counter (China Plaza). \
                     Give it only to an authorised representative.",
                    date_time(deadline)
                )
            }),
        ),
        Event::ReturnedToHeadquarters {
            reference,
            site_name,
        } => (
            "Certificate returned to headquarters",
            fit(site_name, |site| {
                format!(
                    "{P}Your {CCR} (reference {reference}) was not collected from the Smart Locker \
                     in time and is now at: {site}. Collect it during office hours with your \
                     identity document, or through an authorised representative."
                )
            }),
        ),
        Event::TransferredToDepartment {
            reference,
            department_name,
        } => (
            "Certificate sent to department",
            fit(department_name, |department| {
                format!(
                    "{P}As requested, your {CCR} (reference {reference}) has been sent directly to \
                     the receiving department, {department}. You do not need to collect it."
                )
            }),
        ),
        Event::CertificateRevoked { number } => (
            "Certificate revoked",
            format!(
                "{P}Please note that {CCR} No. {number}, previously sent to your department, has \
                 been revoked and is no longer valid. It should not be used for any purpose. For \
                 enquiries, please contact DSI."
            ),
        ),
    }
}

/// `YYYY-MM-DD`.
fn date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `YYYY-MM-DD HH:MM`, Macao time.
fn date_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(MACAO);
    format!("{} {:02}:{:02}", date(at.date()), at.hour(), at.minute())
}

fn plural<'s>(n: u32, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

/// Free text on one line: whitespace and control characters collapse to single spaces, and
/// trailing separators (commas, colons, semicolons) go.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.trim_end_matches([',', ';', ':', '，', '；', '：', '、', ' '])
        .to_owned()
}

/// `text` as a sentence: `stop` appended unless it already ends one.
fn sentence(text: &str, stop: char) -> String {
    let mut out = text.to_owned();
    if !text.ends_with(['.', '!', '?', '。', '！', '？', '…']) {
        out.push(stop);
    }
    out
}

/// `build(text)`, with `text` on one line and shortened with an ellipsis if the body would
/// exceed [`MAX_BODY_CHARS`].
fn fit(text: &str, build: impl Fn(&str) -> String) -> String {
    let text = one_line(text);
    let body = build(&text);
    let len = text.chars().count();
    let mut excess = body.chars().count().saturating_sub(MAX_BODY_CHARS);
    if excess == 0 {
        return body;
    }
    loop {
        let keep = len.saturating_sub(excess + 1);
        let mut clipped: String = text.chars().take(keep).collect();
        clipped.truncate(clipped.trim_end().len());
        clipped.push('…');
        let body = build(&clipped);
        if keep == 0 || body.chars().count() <= MAX_BODY_CHARS {
            return body;
        }
        excess += 1;
    }
}

/// `build(list)` with as many certificate numbers listed as fit in [`MAX_BODY_CHARS`] (at
/// least one), the rest counted.
fn fit_numbers(numbers: &[String], language: Language, build: impl Fn(&str) -> String) -> String {
    let mut shown = numbers.len();
    loop {
        let body = build(&number_list(numbers, shown, language));
        if shown <= 1 || body.chars().count() <= MAX_BODY_CHARS {
            return body;
        }
        shown -= 1;
    }
}

/// The first `shown` of `numbers` as a list (`A、B`, `A, B and C`, `A, B e C`), with any
/// others counted.
fn number_list(numbers: &[String], shown: usize, language: Language) -> String {
    let listed = &numbers[..shown.min(numbers.len())];
    let rest = numbers.len() - listed.len();
    match language {
        Language::Zh => {
            let list = listed.join("、");
            if rest == 0 {
                list
            } else {
                format!("{list}等共{}份", numbers.len())
            }
        }
        Language::Pt | Language::En => {
            let and = if language == Language::Pt { "e" } else { "and" };
            let tail = match (rest, language) {
                (0, _) => None,
                (n, Language::Pt) => Some(format!("mais {n}")),
                (1, _) => Some("1 other".to_owned()),
                (n, _) => Some(format!("{n} others")),
            };
            let mut items: Vec<&str> = listed.iter().map(String::as_str).collect();
            if let Some(tail) = &tail {
                items.push(tail);
            }
            match items.split_last() {
                None => String::new(),
                Some((last, [])) => (*last).to_owned(),
                Some((last, init)) => format!("{} {and} {last}", init.join(", ")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    const REF: &str = "APP-2026-004217";
    const LANGUAGES: [Language; 3] = [Language::Zh, Language::Pt, Language::En];

    fn numbers() -> Vec<String> {
        vec!["CCR-2026-000123".to_owned(), "CCR-2026-000124".to_owned()]
    }

    fn reason(language: Language) -> &'static str {
        match language {
            Language::Zh => "所提交的文件未能證明申請人符合豁免繳費的條件",
            Language::Pt => {
                "Os documentos apresentados não comprovam que reúne as condições de isenção"
            }
            Language::En => {
                "The documents submitted do not show that you meet the conditions for exemption"
            }
        }
    }

    fn request(language: Language) -> &'static str {
        match language {
            Language::Zh => "請上載有效的授權書副本，以及委託人身份證明文件的副本",
            Language::Pt => {
                "Cópia da procuração válida e cópia do documento de identificação do mandante"
            }
            Language::En => {
                "A copy of the valid power of attorney and a copy of the principal's identity document"
            }
        }
    }

    fn site(language: Language) -> &'static str {
        match language {
            Language::Zh => "政府綜合服務大樓智能櫃",
            Language::Pt => "Cacifo inteligente do Centro de Serviços da RAEM",
            Language::En => "Smart Locker at the Macao SAR Government Services Centre",
        }
    }

    fn hq(language: Language) -> &'static str {
        match language {
            Language::Zh => "身份證明局總部（中華廣場）櫃檯",
            Language::Pt => "Sede da DSI (China Plaza)",
            Language::En => "Identification Services Bureau (China Plaza)",
        }
    }

    fn department(language: Language) -> &'static str {
        match language {
            Language::Zh => "勞工事務局",
            Language::Pt => "Direcção dos Serviços para os Assuntos Laborais",
            Language::En => "Labour Affairs Bureau",
        }
    }

    /// Every event with realistic values, plus the variants (express, exempt, locker, one
    /// number) that change the wording. The bool marks events addressed to a department.
    fn events<'a>(language: Language, numbers: &'a [String]) -> Vec<(Event<'a>, &'a str)> {
        let due = date!(2026 - 11 - 27);
        vec![
            (
                Event::OtpCode {
                    code: "482913",
                    minutes_valid: 10,
                },
                "482913",
            ),
            (
                Event::ApplicationSubmitted {
                    reference: REF,
                    amount_avos: 15000,
                    due_date: due,
                    express: false,
                },
                REF,
            ),
            (
                Event::ApplicationSubmitted {
                    reference: REF,
                    amount_avos: 0,
                    due_date: due,
                    express: true,
                },
                REF,
            ),
            (Event::ExemptionApproved { reference: REF }, REF),
            (
                Event::ExemptionRefused {
                    reference: REF,
                    reason: reason(language),
                },
                REF,
            ),
            (
                Event::InformationRequested {
                    reference: REF,
                    message: request(language),
                },
                REF,
            ),
            (Event::ApplicationApproved { reference: REF }, REF),
            (
                Event::ApplicationRejected {
                    reference: REF,
                    reason: reason(language),
                },
                REF,
            ),
            (
                Event::CertificateIssued {
                    reference: REF,
                    numbers,
                    valid_until: date!(2027 - 02 - 18),
                },
                REF,
            ),
            (
                Event::CertificateIssued {
                    reference: REF,
                    numbers: &numbers[..1],
                    valid_until: date!(2027 - 02 - 18),
                },
                "CCR-2026-000123",
            ),
            (
                Event::ReadyForCollection {
                    reference: REF,
                    site_name: site(language),
                    from: datetime!(2026-11-20 01:30 UTC),
                    locker_deadline: Some(datetime!(2026-11-27 10:00 UTC)),
                },
                REF,
            ),
            (
                Event::ReadyForCollection {
                    reference: REF,
                    site_name: site(language),
                    from: datetime!(2026-11-20 01:30 UTC),
                    locker_deadline: None,
                },
                REF,
            ),
            (
                Event::LockerReady {
                    reference: REF,
                    site_name: site(language),
                    code: "40718263",
                    deadline: datetime!(2026-11-27 10:00 UTC),
                },
                "40718263",
            ),
            (
                Event::ReturnedToHeadquarters {
                    reference: REF,
                    site_name: hq(language),
                },
                REF,
            ),
            (
                Event::TransferredToDepartment {
                    reference: REF,
                    department_name: department(language),
                },
                REF,
            ),
            (
                Event::CertificateRevoked {
                    number: "CCR-2026-000123",
                },
                "CCR-2026-000123",
            ),
        ]
    }

    fn is_cjk(c: char) -> bool {
        matches!(c,
            '\u{3000}'..='\u{303F}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{FF00}'..='\u{FFEF}'
            | '\u{20000}'..='\u{3134F}')
    }

    #[test]
    fn every_event_in_every_language() {
        let numbers = numbers();
        for language in LANGUAGES {
            for (event, needle) in events(language, &numbers) {
                let message = render(&event, language);
                let what = format!("{language:?} {event:?}: {}", message.body);
                assert!(!message.subject.trim().is_empty(), "{what}");
                assert!(!message.body.trim().is_empty(), "{what}");
                assert!(message.body.chars().count() <= MAX_BODY_CHARS, "{what}");
                assert!(message.body.contains(needle), "{what}");
                assert!(!message.body.contains('\n'), "{what}");
                assert!(!message.body.contains("  "), "{what}");
                assert!(!message.body.ends_with(' '), "{what}");
                // Realistic free text fits without shortening.
                assert!(!message.body.contains('…'), "{what}");
                match language {
                    Language::Zh => {
                        assert!(message.body.starts_with("身份證明局："), "{what}");
                        assert!(message.body.chars().any(is_cjk), "{what}");
                        assert!(message.subject.chars().any(is_cjk), "{what}");
                    }
                    Language::Pt | Language::En => {
                        assert!(message.body.starts_with("DSI: "), "{what}");
                        assert!(!message.body.chars().any(is_cjk), "{what}");
                        assert!(!message.subject.chars().any(is_cjk), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn certificate_numbers_are_listed() {
        let numbers = numbers();
        for language in LANGUAGES {
            let body = render(
                &Event::CertificateIssued {
                    reference: REF,
                    numbers: &numbers,
                    valid_until: date!(2027 - 02 - 18),
                },
                language,
            )
            .body;
            assert!(body.contains("CCR-2026-000123"), "{body}");
            assert!(body.contains("CCR-2026-000124"), "{body}");
            assert!(body.contains("2027-02-18"), "{body}");
            assert!(body.contains("90"), "{body}");
        }
    }

    #[test]
    fn many_numbers_are_counted_not_overflowed() {
        let numbers: Vec<String> = (1..=30).map(|i| format!("CCR-2026-{i:06}")).collect();
        for language in LANGUAGES {
            let body = render(
                &Event::CertificateIssued {
                    reference: REF,
                    numbers: &numbers,
                    valid_until: date!(2027 - 02 - 18),
                },
                language,
            )
            .body;
            assert!(body.chars().count() <= MAX_BODY_CHARS, "{body}");
            assert!(body.contains("CCR-2026-000001"), "{body}");
            assert!(body.contains(REF), "{body}");
            assert!(
                body.contains(match language {
                    Language::Zh => "共30份",
                    Language::Pt => " e mais ",
                    Language::En => " others ",
                }),
                "{body}"
            );
        }
    }

    #[test]
    fn long_free_text_is_shortened() {
        let long = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(20);
        for language in LANGUAGES {
            for event in [
                Event::ExemptionRefused {
                    reference: REF,
                    reason: &long,
                },
                Event::InformationRequested {
                    reference: REF,
                    message: &long,
                },
                Event::ApplicationRejected {
                    reference: REF,
                    reason: &long,
                },
                Event::TransferredToDepartment {
                    reference: REF,
                    department_name: &long,
                },
                Event::ReadyForCollection {
                    reference: REF,
                    site_name: &long,
                    from: datetime!(2026-11-20 01:30 UTC),
                    locker_deadline: Some(datetime!(2026-11-27 10:00 UTC)),
                },
            ] {
                let body = render(&event, language).body;
                let chars = body.chars().count();
                assert!(
                    (MAX_BODY_CHARS - 2..=MAX_BODY_CHARS).contains(&chars),
                    "{body}"
                );
                assert!(body.contains('…'), "{body}");
                assert!(body.contains(REF), "{body}");
            }
        }
    }

    #[test]
    fn free_text_goes_on_one_line_with_one_full_stop() {
        let body = render(
            &Event::ApplicationRejected {
                reference: REF,
                reason: "Incomplete\r\n   application.",
            },
            Language::En,
        )
        .body;
        assert!(
            body.contains("Reason: Incomplete application. For enquiries"),
            "{body}"
        );
        let body = render(
            &Event::ApplicationRejected {
                reference: REF,
                reason: "資料不全，",
            },
            Language::Zh,
        )
        .body;
        assert!(body.contains("原因：資料不全。如有查詢"), "{body}");
    }

    #[test]
    fn mop_amounts() {
        let cases = [
            (0, "澳門元0.00", "MOP 0,00", "MOP 0.00"),
            (5000, "澳門元50.00", "MOP 50,00", "MOP 50.00"),
            (15000, "澳門元150.00", "MOP 150,00", "MOP 150.00"),
            (123456, "澳門元1,234.56", "MOP 1.234,56", "MOP 1,234.56"),
            (5, "澳門元0.05", "MOP 0,05", "MOP 0.05"),
            (
                123456789,
                "澳門元1,234,567.89",
                "MOP 1.234.567,89",
                "MOP 1,234,567.89",
            ),
            (-500, "-澳門元5.00", "-MOP 5,00", "-MOP 5.00"),
        ];
        for (avos, zh, pt, en) in cases {
            assert_eq!(format_mop(avos, Language::Zh), zh);
            assert_eq!(format_mop(avos, Language::Pt), pt);
            assert_eq!(format_mop(avos, Language::En), en);
        }
        assert_eq!(
            format_mop(i64::MIN, Language::En),
            "-MOP 92,233,720,368,547,758.08"
        );
    }

    #[test]
    fn submitted_shows_fee_or_exemption() {
        for language in LANGUAGES {
            let submitted = |amount_avos| {
                render(
                    &Event::ApplicationSubmitted {
                        reference: REF,
                        amount_avos,
                        due_date: date!(2026 - 11 - 27),
                        express: false,
                    },
                    language,
                )
                .body
            };
            let paid = submitted(15000);
            assert!(paid.contains(&format_mop(15000, language)), "{paid}");
            assert!(paid.contains("2026-11-27"), "{paid}");
            let exempt = submitted(0);
            assert!(!exempt.contains(&format_mop(0, language)), "{exempt}");
            assert!(
                !exempt.contains("MOP") && !exempt.contains("澳門元"),
                "{exempt}"
            );
            assert!(
                exempt.contains(match language {
                    Language::Zh => "豁免",
                    Language::Pt => "isento",
                    Language::En => "exempt",
                }),
                "{exempt}"
            );
        }
    }

    #[test]
    fn express_is_mentioned() {
        for (language, word) in [
            (Language::Zh, "急件"),
            (Language::Pt, "urgente"),
            (Language::En, "express"),
        ] {
            let submitted = |express| {
                render(
                    &Event::ApplicationSubmitted {
                        reference: REF,
                        amount_avos: 15000,
                        due_date: date!(2026 - 11 - 27),
                        express,
                    },
                    language,
                )
                .body
            };
            assert!(submitted(true).contains(word));
            assert!(!submitted(false).contains(word));
        }
    }

    #[test]
    fn times_are_macao_time() {
        for language in LANGUAGES {
            let body = render(
                &Event::ReadyForCollection {
                    reference: REF,
                    site_name: site(language),
                    from: datetime!(2026-11-20 01:30 UTC),
                    locker_deadline: Some(datetime!(2026-11-27 16:15 UTC)),
                },
                language,
            )
            .body;
            assert!(body.contains("2026-11-20 09:30"), "{body}");
            // 16:15 UTC is already the next day in Macao.
            assert!(body.contains("2026-11-28 00:15"), "{body}");
            assert!(!body.contains("01:30"), "{body}");
            assert!(
                body.contains(match language {
                    Language::Zh => "中華廣場",
                    Language::Pt | Language::En => "China Plaza",
                }),
                "{body}"
            );
            // An offset other than UTC converts too.
            let body = render(
                &Event::ReadyForCollection {
                    reference: REF,
                    site_name: site(language),
                    from: datetime!(2026-11-20 02:30 +01:00),
                    locker_deadline: None,
                },
                language,
            )
            .body;
            assert!(body.contains("2026-11-20 09:30"), "{body}");
            assert!(
                !body.contains("China Plaza") && !body.contains("中華廣場"),
                "{body}"
            );
        }
    }

    #[test]
    fn otp_minutes_agree_in_number() {
        let otp = |minutes_valid, language| {
            render(
                &Event::OtpCode {
                    code: "000111",
                    minutes_valid,
                },
                language,
            )
            .body
        };
        assert!(otp(1, Language::En).contains("valid for 1 minute."));
        assert!(otp(5, Language::En).contains("valid for 5 minutes."));
        assert!(otp(1, Language::Pt).contains("válido por 1 minuto."));
        assert!(otp(5, Language::Pt).contains("válido por 5 minutos."));
        assert!(otp(5, Language::Zh).contains("5分鐘內有效"));
    }

    /// `cargo test -- --ignored --nocapture print_all` shows every text for review.
    #[test]
    #[ignore = "prints every text for review"]
    fn print_all() {
        let numbers = numbers();
        for language in LANGUAGES {
            for (event, _) in events(language, &numbers) {
                let message = render(&event, language);
                println!(
                    "[{language:?}] {} ({} chars)\n{}\n",
                    message.subject,
                    message.body.chars().count(),
                    message.body
                );
            }
        }
    }
}
