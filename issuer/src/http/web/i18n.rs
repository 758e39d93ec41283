//! The portal's languages and its string catalogs.
//!
//! Every page string lives in [`Text`], and each language is one `const` of it, so a string
//! missing in one language is a compile error, not a blank on a page. The page tests also
//! check that no page of one language shows another language's text.

use axum::http::HeaderMap;

pub mod office;
pub mod steps;

pub use steps::{Steps, fill};

/// A portal language. Traditional Chinese and Portuguese are Macao's official languages;
/// English is the third language of the certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Traditional Chinese as written in Macao.
    Zh,
    /// Portuguese as written in Macao.
    Pt,
    /// English.
    En,
}

/// The cookie that remembers a chosen language (not personal data; one year).
pub const LANG_COOKIE: &str = "lang";

impl Lang {
    /// Every language, in the order the language switch shows them.
    pub const ALL: [Lang; 3] = [Lang::Zh, Lang::Pt, Lang::En];

    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Zh => "zh-Hant-MO",
            Self::Pt => "pt-MO",
            Self::En => "en",
        }
    }

    /// The short code used in links, forms and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::Pt => "pt",
            Self::En => "en",
        }
    }

    /// The language's name in itself, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::Zh => "中文",
            Self::Pt => "Português",
            Self::En => "English",
        }
    }

    /// Parses a short code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The strings of the application's steps in this language.
    pub fn steps(self) -> &'static Steps {
        match self {
            Self::Zh => &steps::ZH,
            Self::Pt => &steps::PT,
            Self::En => &steps::EN,
        }
    }

    /// The strings of the back office and the department portal in this language.
    pub fn office(self) -> &'static office::Office {
        match self {
            Self::Zh => &office::ZH,
            Self::Pt => &office::PT,
            Self::En => &office::EN,
        }
    }

    /// The strings of this language.
    pub fn text(self) -> &'static Text {
        match self {
            Self::Zh => &ZH,
            Self::Pt => &PT,
            Self::En => &EN,
        }
    }

    /// The first of `Accept-Language`'s languages (by quality) that the portal speaks;
    /// English otherwise.
    pub fn negotiate(accept_language: Option<&str>) -> Self {
        let Some(header) = accept_language else {
            return Self::En;
        };
        let mut best: Option<(u16, usize, Self)> = None;
        for (position, item) in header.split(',').take(32).enumerate() {
            let mut parts = item.split(';');
            let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
            let primary = range.split('-').next().unwrap_or_default();
            let Some(lang) = Self::parse(primary) else {
                continue;
            };
            if quality == 0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((q, p, _)) => quality > q || (quality == q && position < p),
            };
            if better {
                best = Some((quality, position, lang));
            }
        }
        best.map_or(Self::En, |(_, _, lang)| lang)
    }

    /// The language of a request: `?lang=` (a link of the language switch), then the
    /// cookie, then `Accept-Language`.
    pub fn of_request(query_lang: Option<&str>, headers: &HeaderMap) -> Self {
        if let Some(lang) = query_lang.and_then(Self::parse) {
            return lang;
        }
        let cookie = headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == LANG_COOKIE)
            .and_then(|(_, value)| Self::parse(value));
        cookie.unwrap_or_else(|| {
            Self::negotiate(
                headers
                    .get(axum::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        })
    }
}

/// Every string the portal's pages show.
#[derive(Debug)]
pub struct Text {
    /// The service's name, in the header and titles.
    pub service_name: &'static str,
    /// The bureau's name.
    pub bureau: &'static str,
    /// The skip link.
    pub skip_to_content: &'static str,
    /// Before a page title when the form on it has errors.
    pub error_prefix: &'static str,
    /// The label of the language switch.
    pub language: &'static str,
    /// The production sign-in's explanation.
    pub sign_in_oidc: &'static str,
    /// Its button.
    pub sign_in_oidc_button: &'static str,
    /// Footer link to the verification page.
    pub verify_a_certificate: &'static str,
    /// Footer note on the development providers.
    pub development_notice: &'static str,
    /// Start page: title and heading.
    pub start_title: &'static str,
    /// Start page: what the service does.
    pub start_lead: &'static str,
    /// Start page: who can use it.
    pub start_who_heading: &'static str,
    /// Start page: residents.
    pub start_who_residents: &'static str,
    /// Start page: non-resident workers.
    pub start_who_workers: &'static str,
    /// Start page: what you need.
    pub start_need_heading: &'static str,
    /// Start page: the needs, in order.
    pub start_needs: [&'static str; 4],
    /// Start page: fees heading.
    pub fees_heading: &'static str,
    /// Start page: the service column.
    pub fees_service: &'static str,
    /// Start page: the fee column.
    pub fees_fee: &'static str,
    /// Start page: the pledge column.
    pub fees_pledge: &'static str,
    /// Start page: standard service.
    pub standard: &'static str,
    /// Start page: express service.
    pub express: &'static str,
    /// Start page: "per certificate".
    pub per_certificate: &'static str,
    /// Start page: "{n} working days" before the number.
    pub working_days: &'static str,
    /// Start page: how the total is computed and when the pledge starts.
    pub fees_note: &'static str,
    /// Start page: validity.
    pub validity_note: &'static str,
    /// Start page: exemptions heading.
    pub exemption_heading: &'static str,
    /// Start page: exemptions lead.
    pub exemption_lead: &'static str,
    /// Start page: the exemptions' names (unemployment, poverty, disability).
    pub exemption_names: [&'static str; 3],
    /// Supporting documents by code.
    pub document_names: [(&'static str, &'static str); 5],
    /// Start page: the button.
    pub start_now: &'static str,
    /// Start page: resume link.
    pub resume: &'static str,
    /// Start page: other channels heading.
    pub other_ways_heading: &'static str,
    /// Start page: counters.
    pub other_ways_counter: &'static str,
    /// Start page: the counters' addresses and hours.
    pub counters: [&'static str; 3],
    /// Start page: kiosks.
    pub other_ways_kiosk: &'static str,
    /// Sign-in page: title.
    pub sign_in_title: &'static str,
    /// Sign-in page: the development provider's explanation.
    pub sign_in_development: &'static str,
    /// Sign-in page: the identifier's label.
    pub subject_label: &'static str,
    /// Sign-in page: the identifier's hint.
    pub subject_hint: &'static str,
    /// Sign-in page: the identifier is missing or unusable.
    pub subject_error: &'static str,
    /// The continue button.
    pub continue_button: &'static str,
    /// The sign-out button.
    pub sign_out: &'static str,
    /// The error summary's heading.
    pub there_is_a_problem: &'static str,
    /// My applications: title.
    pub my_applications_title: &'static str,
    /// My applications: none yet.
    pub no_applications: &'static str,
    /// My applications: reference column.
    pub col_reference: &'static str,
    /// My applications: state column.
    pub col_state: &'static str,
    /// My applications: due date column.
    pub col_due: &'static str,
    /// My applications: start another.
    pub new_application: &'static str,
    /// Workflow states by code.
    pub state_names: [(&'static str, &'static str); 11],
    /// Error page: not found.
    pub not_found_title: &'static str,
    /// Error page: not found explanation.
    pub not_found_body: &'static str,
    /// Timeout warning: title.
    pub timeout_warning_title: &'static str,
    /// Timeout warning: what will happen.
    pub timeout_warning_body: &'static str,
    /// Timeout warning: the button.
    pub stay_signed_in: &'static str,
    /// Timeout page: title.
    pub timed_out_title: &'static str,
    /// Timeout page: what happened and what was kept.
    pub timed_out_body: &'static str,
    /// Timeout page: the way back.
    pub sign_in_again: &'static str,
    /// Refused form: title.
    pub forbidden_title: &'static str,
    /// Refused form: explanation.
    pub forbidden_body: &'static str,
    /// Error page: something went wrong.
    pub problem_title: &'static str,
    /// Error page: what to do, with a reference.
    pub problem_body: &'static str,
}

/// Traditional Chinese.
pub const ZH: Text = Text {
    service_name: "申請刑事紀錄證明書",
    bureau: "身份證明局",
    skip_to_content: "跳至主要內容",
    error_prefix: "錯誤：",
    language: "語言",
    verify_a_certificate: "核實證明書",
    development_notice: "開發環境：身份認證、短訊、人臉比對及付款均為模擬服務。",
    start_title: "網上申請刑事紀錄證明書",
    start_lead: "透過本服務向身份證明局網上申請刑事紀錄證明書。您可選擇附有電子簽名的電子證明書（PDF）或紙本證明書。",
    start_who_heading: "誰可使用本服務",
    start_who_residents: "持有有效澳門特別行政區居民身份證的人士；",
    start_who_workers: "曾申請刑事紀錄證明書的非本地勞工（首次申請者須親臨櫃檯辦理）。",
    start_need_heading: "開始前請準備",
    start_needs: [
        "您的身份證明文件；",
        "可接收短訊驗證碼的手提電話；",
        "用於人臉比對的相機（手機即可）；",
        "網上付款方式，或申請費用豁免所需的文件。",
    ],
    fees_heading: "費用及服務承諾",
    fees_service: "服務",
    fees_fee: "費用",
    fees_pledge: "服務承諾",
    standard: "普通申請",
    express: "急件申請",
    per_certificate: "每份",
    working_days: "個工作天",
    fees_note: "總費用為每份費用乘以份數。服務承諾由本局收齊所需文件翌日起計，不包括星期六、星期日及公眾假期。",
    validity_note: "刑事紀錄證明書自發出日起90日內有效。電子證明書與紙本證明書具同等法律效力。",
    exemption_heading: "豁免費用",
    exemption_lead: "因以下情況缺乏經濟能力者，可申請豁免費用，經批准後豁免。須上載以下文件：",
    exemption_names: ["失業", "貧困", "殘疾"],
    document_names: [
        ("EXEMPTION_FORM", "已簽署的豁免費用申請表"),
        ("UNEMPLOYMENT_DECLARATION", "已簽署的失業狀況聲明書"),
        (
            "DSAL_REGISTRATION_RECEIPTS",
            "勞工事務局過去12個月的就業登記收據",
        ),
        ("IAS_BENEFICIARY_CARD", "社會工作局有效受惠人卡副本"),
        (
            "DISABILITY_REGISTRATION_CARD",
            "社會工作局有效殘疾評估登記證副本",
        ),
    ],
    start_now: "立即開始",
    resume: "繼續已開始的申請",
    other_ways_heading: "其他申請途徑",
    other_ways_counter: "親臨櫃檯（須預先取籌）：",
    counters: [
        "身份證明局總部：澳門南灣大馬路804號中華廣場1樓，星期一至五 09:00–18:00",
        "澳門政府綜合服務大樓：澳門黑沙環新街52號，星期一至五 09:00–18:00",
        "離島政府綜合服務中心：氹仔哥英布拉街225號3樓，星期一至五 09:00–18:00",
    ],
    other_ways_kiosk: "24小時政府自助服務中心的自助服務機（無須取籌）。",
    sign_in_title: "登入",
    sign_in_oidc: "使用「澳門公共服務一戶通」登入。登入後會返回本頁面。",
    sign_in_oidc_button: "以一戶通登入",
    sign_in_development: "開發環境的登入：輸入任何識別名稱即可登入。正式環境會使用「澳門公共服務一戶通」。",
    subject_label: "識別名稱",
    subject_hint: "例如 MO-1234567。同一名稱會回到同一帳戶。",
    subject_error: "請輸入識別名稱（1至128個字元）",
    continue_button: "繼續",
    sign_out: "登出",
    there_is_a_problem: "出現問題",
    my_applications_title: "我的申請",
    no_applications: "您尚未有任何申請。",
    col_reference: "編號",
    col_state: "狀態",
    col_due: "預計完成日期",
    new_application: "開始新的申請",
    state_names: [
        ("SELECTED", "已選擇資料"),
        ("CONFIRMED", "已確認資料"),
        ("IDENTIFIED", "已核實身份"),
        ("EXEMPTION_REQUESTED", "正審批豁免費用"),
        ("SUBMITTED", "已提交"),
        ("INFORMATION_REQUESTED", "須補交資料"),
        ("CHECKED", "審核中"),
        ("APPROVED", "已批准，正在發出"),
        ("ISSUED", "已發出"),
        ("COLLECTED", "已領取"),
        ("REJECTED", "不獲批准"),
    ],
    not_found_title: "找不到此頁",
    not_found_body: "請檢查網址是否正確，或返回首頁。",
    timeout_warning_title: "您即將被登出",
    timeout_warning_body: "為保障您的資料，若您在2分鐘內沒有任何操作，我們會將您登出。",
    stay_signed_in: "保持登入",
    timed_out_title: "您的登入已逾時",
    timed_out_body: "由於您一段時間沒有任何操作，為保障您的資料，我們已將您登出。已提交的資料均已儲存。",
    sign_in_again: "重新登入以繼續申請",
    forbidden_title: "無法處理此要求",
    forbidden_body: "此表格並非從本網站提交，或已過期。請返回上一頁，重新載入後再試。",
    problem_title: "抱歉，服務出現問題",
    problem_body: "請稍後再試。如需協助，請向身份證明局提供此參考編號：",
};

/// Portuguese.
pub const PT: Text = Text {
    service_name: "Pedido de Certificado de Registo Criminal",
    bureau: "Direcção dos Serviços de Identificação",
    skip_to_content: "Saltar para o conteúdo principal",
    error_prefix: "Erro:",
    language: "Língua",
    verify_a_certificate: "Verificar um certificado",
    development_notice: "Ambiente de desenvolvimento: a autenticação, o SMS, o reconhecimento facial e o pagamento são simulados.",
    start_title: "Pedir o Certificado de Registo Criminal em linha",
    start_lead: "Use este serviço para pedir em linha à Direcção dos Serviços de Identificação (DSI) o Certificado de Registo Criminal, em formato electrónico (PDF com assinatura digital) ou em papel.",
    start_who_heading: "Quem pode usar este serviço",
    start_who_residents: "titulares do Bilhete de Identidade de Residente da RAEM válido;",
    start_who_workers: "trabalhadores não residentes que já pediram o certificado anteriormente (o primeiro pedido é feito no balcão).",
    start_need_heading: "Antes de começar, tenha consigo",
    start_needs: [
        "o seu documento de identificação;",
        "um telemóvel para receber um código por SMS;",
        "uma câmara para o reconhecimento facial (a do telemóvel serve);",
        "um meio de pagamento em linha, ou os documentos para pedir a isenção.",
    ],
    fees_heading: "Taxas e prazos",
    fees_service: "Serviço",
    fees_fee: "Taxa",
    fees_pledge: "Prazo",
    standard: "Normal",
    express: "Urgente",
    per_certificate: "por certificado",
    working_days: "dias úteis",
    fees_note: "O total é a taxa multiplicada pelo número de certificados. O prazo conta a partir do dia seguinte à recepção de todos os documentos, excluindo sábados, domingos e feriados.",
    validity_note: "O certificado é válido por 90 dias a contar da data de emissão. O certificado electrónico tem o mesmo efeito legal que o certificado em papel.",
    exemption_heading: "Isenção de taxas",
    exemption_lead: "Quem não tem capacidade económica por uma das razões seguintes pode pedir a isenção, concedida após aprovação. Deve carregar:",
    exemption_names: ["Desemprego", "Carência económica", "Deficiência"],
    document_names: [
        ("EXEMPTION_FORM", "Requerimento de isenção assinado"),
        (
            "UNEMPLOYMENT_DECLARATION",
            "Declaração de desemprego assinada",
        ),
        (
            "DSAL_REGISTRATION_RECEIPTS",
            "Recibos de inscrição para emprego da DSAL dos últimos 12 meses",
        ),
        (
            "IAS_BENEFICIARY_CARD",
            "Cópia do cartão de beneficiário do IAS válido",
        ),
        (
            "DISABILITY_REGISTRATION_CARD",
            "Cópia do cartão de registo de avaliação da deficiência do IAS válido",
        ),
    ],
    start_now: "Começar agora",
    resume: "Continuar um pedido já iniciado",
    other_ways_heading: "Outras formas de pedir",
    other_ways_counter: "No balcão (com senha obtida antecipadamente):",
    counters: [
        "Sede da DSI: Avenida da Praia Grande, n.º 804, Edifício China Plaza, 1.º andar; segunda a sexta, 09:00–18:00",
        "Centro de Serviços da RAEM: Rua Nova da Areia Preta, n.º 52; segunda a sexta, 09:00–18:00",
        "Centro de Serviços da RAEM das Ilhas: Rua de Coimbra, n.º 225, 3.º andar, Taipa; segunda a sexta, 09:00–18:00",
    ],
    other_ways_kiosk: "Nas máquinas de auto-atendimento do Centro de Serviços de Auto-Atendimento de 24 horas do Governo (sem senha).",
    sign_in_title: "Entrar",
    sign_in_oidc: "Entre com a Conta Única de Macau. Depois volta a esta página.",
    sign_in_oidc_button: "Entrar com a Conta Única de Macau",
    sign_in_development: "Entrada do ambiente de desenvolvimento: qualquer identificador serve. Em produção entra-se com a «Conta única de acesso comum aos serviços públicos da RAEM».",
    subject_label: "Identificador",
    subject_hint: "Por exemplo MO-1234567. O mesmo identificador volta à mesma conta.",
    subject_error: "Indique um identificador (1 a 128 caracteres)",
    continue_button: "Continuar",
    sign_out: "Sair",
    there_is_a_problem: "Há um problema",
    my_applications_title: "Os meus pedidos",
    no_applications: "Ainda não tem pedidos.",
    col_reference: "Referência",
    col_state: "Situação",
    col_due: "Data prevista",
    new_application: "Começar um novo pedido",
    state_names: [
        ("SELECTED", "Dados seleccionados"),
        ("CONFIRMED", "Dados confirmados"),
        ("IDENTIFIED", "Identidade verificada"),
        ("EXEMPTION_REQUESTED", "Isenção em apreciação"),
        ("SUBMITTED", "Submetido"),
        ("INFORMATION_REQUESTED", "Informações pedidas"),
        ("CHECKED", "Em apreciação"),
        ("APPROVED", "Aprovado, em emissão"),
        ("ISSUED", "Emitido"),
        ("COLLECTED", "Levantado"),
        ("REJECTED", "Indeferido"),
    ],
    not_found_title: "Página não encontrada",
    not_found_body: "Verifique se o endereço está correcto, ou volte à página inicial.",
    timeout_warning_title: "A sua sessão vai terminar",
    timeout_warning_body: "Para proteger os seus dados, terminaremos a sessão se não fizer nada nos próximos 2 minutos.",
    stay_signed_in: "Continuar com a sessão",
    timed_out_title: "A sua sessão terminou",
    timed_out_body: "Por não ter feito nada durante algum tempo, terminámos a sessão para proteger os seus dados. O que já submeteu ficou guardado.",
    sign_in_again: "Entrar novamente para continuar o pedido",
    forbidden_title: "Não foi possível tratar o pedido",
    forbidden_body: "Este formulário não foi enviado a partir deste sítio, ou expirou. Volte à página anterior, recarregue-a e tente de novo.",
    problem_title: "Lamentamos, ocorreu um problema no serviço",
    problem_body: "Tente novamente mais tarde. Se precisar de ajuda, indique à DSI esta referência:",
};

/// English.
pub const EN: Text = Text {
    service_name: "Apply for a Certificate of Criminal Record",
    bureau: "Identification Services Bureau",
    skip_to_content: "Skip to main content",
    error_prefix: "Error:",
    language: "Language",
    verify_a_certificate: "Verify a certificate",
    development_notice: "Development environment: sign-in, text messages, the face check and payment are simulated.",
    start_title: "Apply online for a Certificate of Criminal Record",
    start_lead: "Use this service to apply online to the Identification Services Bureau (DSI) for a Certificate of Criminal Record, as a digitally signed electronic certificate (PDF) or on paper.",
    start_who_heading: "Who can use this service",
    start_who_residents: "holders of a valid Macao SAR Resident Identity Card;",
    start_who_workers: "non-resident workers who have applied before (a first application is made at a counter).",
    start_need_heading: "Before you start, you will need",
    start_needs: [
        "your identity document;",
        "a mobile phone that can receive a text message;",
        "a camera for the face check (a phone's camera will do);",
        "a way to pay online, or the documents to ask for a fee exemption.",
    ],
    fees_heading: "Fees and processing times",
    fees_service: "Service",
    fees_fee: "Fee",
    fees_pledge: "Processing time",
    standard: "Standard",
    express: "Express",
    per_certificate: "per certificate",
    working_days: "working days",
    fees_note: "The total is the fee times the number of certificates. Processing time counts from the day after we have received everything, not counting Saturdays, Sundays and public holidays.",
    validity_note: "A certificate is valid for 90 days from the day it is issued. The electronic certificate has the same legal effect as the printed one.",
    exemption_heading: "Fee exemption",
    exemption_lead: "If you cannot afford the fee for one of these reasons, you can ask for an exemption, granted on approval. You will upload:",
    exemption_names: ["Unemployment", "Poverty", "Disability"],
    document_names: [
        (
            "EXEMPTION_FORM",
            "the signed fee exemption application form",
        ),
        (
            "UNEMPLOYMENT_DECLARATION",
            "a signed declaration of unemployment",
        ),
        (
            "DSAL_REGISTRATION_RECEIPTS",
            "the Labour Affairs Bureau's employment registration receipts of the past 12 months",
        ),
        (
            "IAS_BENEFICIARY_CARD",
            "a copy of a valid Social Welfare Bureau beneficiary card",
        ),
        (
            "DISABILITY_REGISTRATION_CARD",
            "a copy of a valid Social Welfare Bureau disability assessment registration card",
        ),
    ],
    start_now: "Start now",
    resume: "Resume an application",
    other_ways_heading: "Other ways to apply",
    other_ways_counter: "At a counter (take a number tag in advance):",
    counters: [
        "DSI headquarters: Avenida da Praia Grande, nº 804, China Plaza, 1st floor; Monday to Friday, 09:00–18:00",
        "Macao Government Services Centre: Rua Nova da Areia Preta, nº 52; Monday to Friday, 09:00–18:00",
        "Government Services Centre in the Islands: Rua de Coimbra, nº 225, 3rd floor, Taipa; Monday to Friday, 09:00–18:00",
    ],
    other_ways_kiosk: "At the self-service kiosks of the Government 24-hour Self-service Centre (no number tag needed).",
    sign_in_title: "Sign in",
    sign_in_oidc: "Sign in with Macao One Account. You will come back here afterwards.",
    sign_in_oidc_button: "Sign in with Macao One Account",
    sign_in_development: "Development sign-in: any identifier signs you in. In production you sign in with Macao One Account.",
    subject_label: "Identifier",
    subject_hint: "For example MO-1234567. The same identifier returns to the same account.",
    subject_error: "Enter an identifier (1 to 128 characters)",
    continue_button: "Continue",
    sign_out: "Sign out",
    there_is_a_problem: "There is a problem",
    my_applications_title: "Your applications",
    no_applications: "You have no applications yet.",
    col_reference: "Reference",
    col_state: "Status",
    col_due: "Due by",
    new_application: "Start a new application",
    state_names: [
        ("SELECTED", "Details selected"),
        ("CONFIRMED", "Details confirmed"),
        ("IDENTIFIED", "Identity verified"),
        ("EXEMPTION_REQUESTED", "Exemption being decided"),
        ("SUBMITTED", "Submitted"),
        ("INFORMATION_REQUESTED", "Information requested"),
        ("CHECKED", "Being reviewed"),
        ("APPROVED", "Approved, being issued"),
        ("ISSUED", "Issued"),
        ("COLLECTED", "Collected"),
        ("REJECTED", "Refused"),
    ],
    not_found_title: "Page not found",
    not_found_body: "Check that the address is right, or go back to the start page.",
    timeout_warning_title: "You are about to be signed out",
    timeout_warning_body: "To protect your information, we will sign you out if you do nothing in the next 2 minutes.",
    stay_signed_in: "Stay signed in",
    timed_out_title: "Your session has timed out",
    timed_out_body: "We signed you out because you did nothing for a while, to protect your information. Anything you had submitted has been saved.",
    sign_in_again: "Sign in again to continue your application",
    forbidden_title: "We could not process that request",
    forbidden_body: "The form was not sent from this site, or it has expired. Go back, reload the page and try again.",
    problem_title: "Sorry, there is a problem with the service",
    problem_body: "Try again later. If you need help, give the Identification Services Bureau this reference:",
};

impl Text {
    /// A workflow state's name.
    pub fn state_name(&self, code: &str) -> &'static str {
        self.state_names
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("", |(_, name)| name)
    }

    /// A supporting document's name.
    pub fn document_name(&self, code: &str) -> &'static str {
        self.document_names
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("", |(_, name)| name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_language_the_portal_speaks() {
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::negotiate(Some("zh-TW,zh;q=0.9,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("pt-PT")), Lang::Pt);
        assert_eq!(Lang::negotiate(Some("fr-FR, pt;q=0.5, en;q=0.7")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr, de")), Lang::En);
        assert_eq!(Lang::negotiate(Some("zh;q=0, pt;q=0.1")), Lang::Pt);
        assert_eq!(Lang::negotiate(Some(";;;,=,q=")), Lang::En);
    }

    #[test]
    fn every_workflow_state_has_a_name_in_every_language() {
        for lang in Lang::ALL {
            for state in crate::rules::workflow::STATES {
                assert!(
                    !lang.text().state_name(state).is_empty(),
                    "{lang:?} {state}"
                );
            }
        }
    }

    #[test]
    fn every_exemption_document_has_a_name_in_every_language() {
        use crate::rules::workflow::Exemption;
        for lang in Lang::ALL {
            for exemption in [
                Exemption::Unemployment,
                Exemption::Poverty,
                Exemption::Disability,
            ] {
                for code in exemption.required_documents() {
                    assert!(
                        !lang.text().document_name(code).is_empty(),
                        "{lang:?} {code}"
                    );
                }
            }
        }
    }
}
