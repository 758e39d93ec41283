//! The strings of the application's steps (select, confirm, identity, pay or exemption,
//! confirmation, progress). Like [`super::Text`], one `const` per language, so a missing
//! string is a compile error. `{0}`, `{1}` are filled by [`fill`].

/// Every string of the application's steps.
#[derive(Debug)]
pub struct Steps {
    /// "Step {0} of 4".
    pub step_of: &'static str,
    /// The back link.
    pub back: &'static str,
    /// "Change" in a summary list.
    pub change: &'static str,
    /// Yes.
    pub yes: &'static str,
    /// No.
    pub no: &'static str,
    /// Visually hidden after "Change": which answer.
    pub change_hidden_prefix: &'static str,

    // Step 1.
    /// Step 1's heading.
    pub select_title: &'static str,
    /// Usage question.
    pub usage_legend: &'static str,
    /// Format question.
    pub format_legend: &'static str,
    /// Electronic.
    pub electronic: &'static str,
    /// Electronic's hint.
    pub electronic_hint: &'static str,
    /// Paper.
    pub paper: &'static str,
    /// Paper's hint.
    pub paper_hint: &'static str,
    /// Collection site question.
    pub site_legend: &'static str,
    /// Its hint.
    pub site_hint: &'static str,
    /// Quantity question.
    pub quantity_label: &'static str,
    /// "From 1 to {0}".
    pub quantity_hint: &'static str,
    /// Express question.
    pub express_legend: &'static str,
    /// "Standard: {0} per certificate, within {1} working days".
    pub standard_option: &'static str,
    /// "Express: {0} per certificate, within {1} working days".
    pub express_option: &'static str,
    /// Transfer question.
    pub transfer_legend: &'static str,
    /// Its hint.
    pub transfer_hint: &'static str,
    /// No transfer.
    pub transfer_none: &'static str,
    /// Errors of step 1.
    pub err_usage: &'static str,
    /// No format chosen.
    pub err_format: &'static str,
    /// No site for paper.
    pub err_site: &'static str,
    /// Quantity out of range: "Enter a number from 1 to {0}".
    pub err_quantity: &'static str,
    /// No express answer.
    pub err_express: &'static str,
    /// Unknown department.
    pub err_transfer: &'static str,

    // Step 2.
    /// Step 2's heading.
    pub confirm_title: &'static str,
    /// Its lead.
    pub confirm_lead: &'static str,
    /// Latin name.
    pub name_latin_label: &'static str,
    /// Its hint.
    pub name_latin_hint: &'static str,
    /// Chinese name.
    pub name_chinese_label: &'static str,
    /// Its hint.
    pub name_chinese_hint: &'static str,
    /// Date of birth.
    pub dob_label: &'static str,
    /// Its hint.
    pub dob_hint: &'static str,
    /// Document type question.
    pub doc_type_legend: &'static str,
    /// BIR, TI, PASSPORT names.
    pub doc_types: [(&'static str, &'static str); 3],
    /// Document number.
    pub doc_number_label: &'static str,
    /// Its hint.
    pub doc_number_hint: &'static str,
    /// Notification language question.
    pub notify_lang_legend: &'static str,
    /// Mobile number.
    pub mobile_label: &'static str,
    /// Its hint.
    pub mobile_hint: &'static str,
    /// Consent question.
    pub consent_legend: &'static str,
    /// Consent box.
    pub consent_label: &'static str,
    /// Errors of step 2.
    pub err_name_latin: &'static str,
    /// Chinese name refused.
    pub err_name_chinese: &'static str,
    /// Date of birth refused.
    pub err_dob: &'static str,
    /// No document type.
    pub err_doc_type: &'static str,
    /// Document number refused.
    pub err_doc_number: &'static str,
    /// No language.
    pub err_notify_lang: &'static str,
    /// Mobile refused.
    pub err_mobile: &'static str,
    /// No consent.
    pub err_consent: &'static str,
    /// Details that cannot be printed on a certificate.
    pub err_unprintable: &'static str,
    /// The counter page.
    pub counter_title: &'static str,
    /// Why.
    pub counter_body: &'static str,
    /// Where.
    pub counter_where: &'static str,

    // Step 3.
    /// The code page.
    pub code_title: &'static str,
    /// "We will send a 6-digit code to {0}."
    pub code_intro: &'static str,
    /// Send button.
    pub send_code: &'static str,
    /// "We have sent a code to {0}. It is valid for 5 minutes."
    pub code_sent: &'static str,
    /// The field.
    pub code_label: &'static str,
    /// Its hint.
    pub code_hint: &'static str,
    /// Link to the help page.
    pub not_received_link: &'static str,
    /// Help page heading.
    pub not_received_title: &'static str,
    /// "Text messages can take a few minutes… {0}".
    pub not_received_body: &'static str,
    /// Resend button.
    pub resend_code: &'static str,
    /// Link to change the number.
    pub change_mobile: &'static str,
    /// Errors of the code.
    pub err_code_format: &'static str,
    /// Wrong code.
    pub err_code_wrong: &'static str,
    /// Locked.
    pub err_code_locked: &'static str,
    /// None pending.
    pub err_code_none: &'static str,
    /// Resend too soon or too often.
    pub err_code_too_soon: &'static str,
    /// The face page.
    pub face_title: &'static str,
    /// Its lead.
    pub face_lead: &'static str,
    /// The field.
    pub face_label: &'static str,
    /// "…JPEG or PNG, up to {0} MB."
    pub face_hint: &'static str,
    /// Button.
    pub face_button: &'static str,
    /// No photo.
    pub err_face_missing: &'static str,
    /// No match.
    pub err_face_failed: &'static str,
    /// Not an image we read.
    pub err_face_type: &'static str,
    /// Too large: "…smaller than {0} MB".
    pub err_face_large: &'static str,
    /// An iPhone HEIC photo.
    pub err_heic: &'static str,
    /// Identity verified: continue.
    pub identity_done: &'static str,

    // Step 4.
    /// Check answers heading.
    pub check_title: &'static str,
    /// Section: the application.
    pub check_application: &'static str,
    /// Section: the holder.
    pub check_holder: &'static str,
    /// Fee row.
    pub fee_label: &'static str,
    /// "Pay {0}".
    pub pay_button: &'static str,
    /// Exemption link.
    pub exemption_link: &'static str,
    /// Sandbox page heading.
    pub sandbox_title: &'static str,
    /// Sandbox notice.
    pub sandbox_notice: &'static str,
    /// "Amount: {0}".
    pub sandbox_amount: &'static str,
    /// "Pay {0}" on the sandbox page.
    pub sandbox_pay: &'static str,
    /// Cancel and go back.
    pub sandbox_cancel: &'static str,
    /// Payment not confirmed yet.
    pub payment_pending_title: &'static str,
    /// Its body.
    pub payment_pending_body: &'static str,
    /// Check again.
    pub check_again: &'static str,
    /// Exemption page heading.
    pub exemption_title: &'static str,
    /// Reason question.
    pub exemption_kind_legend: &'static str,
    /// "PDF, JPEG or PNG, up to {0} MB each…"
    pub files_hint: &'static str,
    /// Upload button.
    pub exemption_button: &'static str,
    /// No reason chosen.
    pub err_exemption_kind: &'static str,
    /// "Attach {0}".
    pub err_file_missing: &'static str,
    /// Not PDF, JPEG, PNG.
    pub err_file_type: &'static str,
    /// Too large: "…smaller than {0} MB".
    pub err_file_large: &'static str,
    /// Content does not match: "The file could not be read: {0}".
    pub err_file_content: &'static str,
    /// Bad file name.
    pub err_file_name: &'static str,

    // Confirmation and progress.
    /// Heading after payment.
    pub submitted_title: &'static str,
    /// Heading after an exemption request.
    pub exemption_sent_title: &'static str,
    /// Reference label.
    pub reference_label: &'static str,
    /// "We will issue your certificate by {0} ({1} working days)."
    pub due_text: &'static str,
    /// What next heading.
    pub what_next: &'static str,
    /// Electronic.
    pub next_electronic: &'static str,
    /// Paper: "…collect it at {0}…".
    pub next_paper: &'static str,
    /// Exemption.
    pub next_exemption: &'static str,
    /// Receipt link.
    pub receipt_link: &'static str,
    /// Receipt heading.
    pub receipt_title: &'static str,
    /// Amount paid.
    pub amount_paid: &'static str,
    /// Date.
    pub date_label: &'static str,
    /// Print hint.
    pub print_hint: &'static str,
    /// "Application {0}".
    pub application_title: &'static str,
    /// Progress.
    pub progress_label: &'static str,
    /// Continue an unfinished application.
    pub continue_application: &'static str,
    /// Request for information heading.
    pub information_heading: &'static str,
    /// Answer field.
    pub answer_label: &'static str,
    /// Its hint.
    pub answer_hint: &'static str,
    /// Optional file.
    pub answer_file_label: &'static str,
    /// Send button.
    pub answer_button: &'static str,
    /// Empty or too long answer.
    pub err_answer: &'static str,
    /// Certificates heading.
    pub certificates_heading: &'static str,
    /// Download link: "Download certificate {0} (PDF)".
    pub download: &'static str,
    /// Valid until.
    pub valid_until: &'static str,
    /// Transferred to.
    pub transferred_to: &'static str,
    /// A transfer's state: delivered, with when (`{0}`).
    pub transfer_delivered: &'static str,
    /// A transfer's state: not delivered yet (`{0}` the reason, when known, in English).
    pub transfer_queued: &'static str,
    /// A transfer's state: the department refused it (`{0}` its reason code).
    pub transfer_rejected: &'static str,
    /// No certificates yet.
    pub no_certificates: &'static str,
    /// The action is not possible in the application's state.
    pub err_state: &'static str,
}

/// Fills `{0}`, `{1}`… in `template` with `values`.
pub fn fill(template: &str, values: &[&str]) -> String {
    let mut out = template.to_owned();
    for (i, value) in values.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), value);
    }
    out
}

/// Traditional Chinese.
pub const ZH: Steps = Steps {
    step_of: "第 {0} 步（共 4 步）",
    back: "返回",
    change: "更改",
    yes: "是",
    no: "否",
    change_hidden_prefix: "：",
    select_title: "選擇申請內容",
    usage_legend: "證明書的用途是甚麼？",
    format_legend: "需要電子證明書還是紙本證明書？",
    electronic: "電子證明書",
    electronic_hint: "經數碼簽署的 PDF 文件，可在網上下載或直接轉交政府部門。",
    paper: "紙本證明書",
    paper_hint: "親臨櫃檯或智能櫃領取。",
    site_legend: "在哪裡領取紙本證明書？",
    site_hint: "只適用於紙本證明書。",
    quantity_label: "需要多少份？",
    quantity_hint: "1 至 {0} 份",
    express_legend: "是否需要特快辦理？",
    standard_option: "普通：每份 {0}，{1} 個工作日內完成",
    express_option: "特快：每份 {0}，{1} 個工作日內完成",
    transfer_legend: "是否將證明書直接轉交政府部門？",
    transfer_hint: "只適用於電子證明書。部門會直接收到證明書。",
    transfer_none: "不需要",
    err_usage: "請選擇證明書的用途",
    err_format: "請選擇電子或紙本證明書",
    err_site: "請選擇領取地點",
    err_quantity: "請輸入 1 至 {0} 之間的數字",
    err_express: "請選擇是否需要特快辦理",
    err_transfer: "請從列表中選擇部門",
    confirm_title: "確認你的資料",
    confirm_lead: "資料會印在證明書上，請按身份證明文件填寫。",
    name_latin_label: "外文姓名",
    name_latin_hint: "按身份證明文件上的拉丁字母姓名填寫。",
    name_chinese_label: "中文姓名（如有）",
    name_chinese_hint: "沒有中文姓名請留空。",
    dob_label: "出生日期",
    dob_hint: "例如 1990-03-27",
    doc_type_legend: "身份證明文件",
    doc_types: [
        ("BIR", "澳門居民身份證"),
        ("TI", "外地僱員身份認別證"),
        ("PASSPORT", "護照"),
    ],
    doc_number_label: "證件編號",
    doc_number_hint: "按證件上所印填寫，例如 1234567(8)。",
    notify_lang_legend: "短訊通知的語言",
    mobile_label: "手提電話號碼",
    mobile_hint: "例如 6123 4567；外地號碼請加國際區號，例如 +852 9123 4567。",
    consent_legend: "同意書",
    consent_label: "本人同意身份證明局向治安警察局索取本人的資料",
    err_name_latin: "請按身份證明文件填寫外文姓名",
    err_name_chinese: "中文姓名只可使用中文字，或留空",
    err_dob: "請填寫出生日期，例如 1990-03-27",
    err_doc_type: "請選擇身份證明文件",
    err_doc_number: "請按證件所印填寫編號，只可使用數字和英文字母",
    err_notify_lang: "請選擇短訊通知的語言",
    err_mobile: "請填寫手提電話號碼，例如 6123 4567",
    err_consent: "須同意本局索取你的資料才可繼續",
    err_unprintable: "部分資料無法印在證明書上，請檢查姓名",
    counter_title: "請親臨櫃檯申請",
    counter_body: "首次申請的外地僱員須親臨櫃檯辦理，以便本局核實身份證明文件。這不是你填寫的錯誤。",
    counter_where: "請攜同你的外地僱員身份認別證前往以下櫃檯：",
    code_title: "輸入短訊驗證碼",
    code_intro: "我們會發送 6 位數字的驗證碼到 {0}。",
    send_code: "發送驗證碼",
    code_sent: "驗證碼已發送到 {0}，5 分鐘內有效。",
    code_label: "驗證碼",
    code_hint: "6 位數字",
    not_received_link: "沒有收到短訊？",
    not_received_title: "沒有收到短訊",
    not_received_body: "短訊可能需要數分鐘才送達。請檢查號碼是否正確：{0}。每 30 秒可要求發送一次新的驗證碼。",
    resend_code: "發送新的驗證碼",
    change_mobile: "更改手提電話號碼",
    err_code_format: "請輸入 6 位數字的驗證碼",
    err_code_wrong: "驗證碼不正確，請檢查短訊後再試",
    err_code_locked: "錯誤次數過多，請要求發送新的驗證碼",
    err_code_none: "驗證碼已過期或尚未發送，請要求發送新的驗證碼",
    err_code_too_soon: "請稍候再要求發送新的驗證碼（每 30 秒一次，每小時最多 5 次）",
    face_title: "人臉識別",
    face_lead: "你的相片會與身份證明文件的相片比對，比對後即刪除，本局不會保存。",
    face_label: "你的臉部相片",
    face_hint: "在手機上會開啟前置鏡頭。JPEG 或 PNG，不超過 {0} MB。",
    face_button: "上載相片",
    err_face_missing: "請拍攝或選擇一張相片",
    err_face_failed: "相片與身份證明文件不符。請在光線充足處、不戴眼鏡和帽子再試，或親臨櫃檯申請。",
    err_face_type: "相片須為 JPEG 或 PNG",
    err_face_large: "相片須小於 {0} MB",
    err_heic: "不接受 iPhone 的 HEIC 相片：請在相機設定選擇「最相容」，或直接在此拍攝",
    identity_done: "身份已核實。",
    check_title: "付款前核對資料",
    check_application: "申請內容",
    check_holder: "你的資料",
    fee_label: "費用",
    pay_button: "繳付 {0}",
    exemption_link: "申請豁免費用",
    sandbox_title: "測試付款平台（SANDBOX）",
    sandbox_notice: "此頁代替開發環境中的付款平台，不會收取任何款項。",
    sandbox_amount: "金額：{0}",
    sandbox_pay: "繳付 {0}",
    sandbox_cancel: "取消並返回",
    payment_pending_title: "尚未確認你的付款",
    payment_pending_body: "付款平台尚未通知本局。如你已付款，請稍後再查看；本局不會重複收費。",
    check_again: "再次查看",
    exemption_title: "申請豁免費用",
    exemption_kind_legend: "申請豁免的原因",
    files_hint: "PDF、JPEG 或 PNG，每個文件不超過 {0} MB。不接受 iPhone 的 HEIC 相片，請先儲存為 JPEG。",
    exemption_button: "提交豁免申請",
    err_exemption_kind: "請選擇申請豁免的原因",
    err_file_missing: "請上載{0}",
    err_file_type: "文件須為 PDF、JPEG 或 PNG",
    err_file_large: "文件須小於 {0} MB",
    err_file_content: "無法讀取文件：{0}",
    err_file_name: "文件名稱含有不接受的字元，請重新命名",
    submitted_title: "申請已提交",
    exemption_sent_title: "豁免申請已提交",
    reference_label: "你的申請編號",
    due_text: "本局會於 {0}（{1} 個工作日內）前發出證明書。",
    what_next: "接下來",
    next_electronic: "證明書可供下載時，本局會以短訊通知你，你可在「我的申請」下載。",
    next_paper: "證明書可供領取時，本局會以短訊通知你，請到 {0} 領取。",
    next_exemption: "本局會以短訊通知你豁免申請的結果。",
    receipt_link: "查看可列印的收據",
    receipt_title: "收據",
    amount_paid: "已付金額",
    date_label: "日期",
    print_hint: "可使用瀏覽器的列印功能列印此頁。",
    application_title: "申請 {0}",
    progress_label: "進度",
    continue_application: "繼續申請",
    information_heading: "本局需要更多資料",
    answer_label: "你的回覆",
    answer_hint: "最多 2000 字。",
    answer_file_label: "附件（可選）",
    answer_button: "發送",
    err_answer: "請輸入回覆（最多 2000 字）",
    certificates_heading: "你的證明書",
    download: "下載證明書 {0}（PDF）",
    valid_until: "有效期至",
    transferred_to: "已轉交",
    transfer_delivered: "已送達（{0}）",
    transfer_queued: "等候送達",
    transfer_rejected: "部門拒收（{0}）",
    no_certificates: "證明書尚未發出。",
    err_state: "申請目前的狀態不能進行此操作。",
};

/// Portuguese.
pub const PT: Steps = Steps {
    step_of: "Passo {0} de 4",
    back: "Voltar",
    change: "Alterar",
    yes: "Sim",
    no: "Não",
    change_hidden_prefix: ": ",
    select_title: "Escolha o que pede",
    usage_legend: "Para que é o certificado?",
    format_legend: "Certificado electrónico ou em papel?",
    electronic: "Electrónico",
    electronic_hint: "Um PDF assinado digitalmente, para descarregar ou enviar directamente a um serviço público.",
    paper: "Em papel",
    paper_hint: "Levantado num balcão ou num cacifo inteligente.",
    site_legend: "Onde vai levantar o certificado em papel?",
    site_hint: "Só para certificados em papel.",
    quantity_label: "Quantos certificados?",
    quantity_hint: "De 1 a {0}",
    express_legend: "Precisa de tratamento urgente?",
    standard_option: "Normal: {0} por certificado, em {1} dias úteis",
    express_option: "Urgente: {0} por certificado, em {1} dias úteis",
    transfer_legend: "Enviar o certificado directamente a um serviço público?",
    transfer_hint: "Só para certificados electrónicos. O serviço recebe o certificado directamente.",
    transfer_none: "Não",
    err_usage: "Escolha para que é o certificado",
    err_format: "Escolha electrónico ou em papel",
    err_site: "Escolha onde vai levantar o certificado",
    err_quantity: "Introduza um número de 1 a {0}",
    err_express: "Escolha se precisa de tratamento urgente",
    err_transfer: "Escolha um serviço da lista",
    confirm_title: "Confirme os seus dados",
    confirm_lead: "Estes dados são impressos no certificado: escreva-os como no seu documento de identificação.",
    name_latin_label: "Nome em caracteres latinos",
    name_latin_hint: "Como no seu documento de identificação.",
    name_chinese_label: "Nome em chinês (se tiver)",
    name_chinese_hint: "Deixe em branco se não tiver nome em chinês.",
    dob_label: "Data de nascimento",
    dob_hint: "Por exemplo 1990-03-27",
    doc_type_legend: "Documento de identificação",
    doc_types: [
        ("BIR", "Bilhete de Identidade de Residente de Macau"),
        ("TI", "Título de Identificação de Trabalhador Não-Residente"),
        ("PASSPORT", "Passaporte"),
    ],
    doc_number_label: "Número do documento",
    doc_number_hint: "Como impresso, por exemplo 1234567(8).",
    notify_lang_legend: "Língua das mensagens SMS",
    mobile_label: "Número de telemóvel",
    mobile_hint: "Por exemplo 6123 4567; de fora de Macau, com o indicativo, por exemplo +852 9123 4567.",
    consent_legend: "Consentimento",
    consent_label: "Autorizo a DSI a obter os meus dados junto do Corpo de Polícia de Segurança Pública",
    err_name_latin: "Escreva o nome como no seu documento de identificação",
    err_name_chinese: "O nome em chinês só pode ter caracteres chineses, ou fique em branco",
    err_dob: "Introduza a data de nascimento, por exemplo 1990-03-27",
    err_doc_type: "Escolha o documento de identificação",
    err_doc_number: "Introduza o número como impresso, só com algarismos e letras",
    err_notify_lang: "Escolha a língua das mensagens",
    err_mobile: "Introduza um número de telemóvel, por exemplo 6123 4567",
    err_consent: "Para continuar, autorize a DSI a obter os seus dados",
    err_unprintable: "Alguns dados não podem ser impressos no certificado: verifique os nomes",
    counter_title: "Peça o certificado num balcão",
    counter_body: "Os trabalhadores não-residentes que pedem pela primeira vez têm de o fazer pessoalmente, para que a DSI verifique o documento de identificação. Não se trata de um erro seu.",
    counter_where: "Leve o seu Título de Identificação a um destes balcões:",
    code_title: "Introduza o código enviado para o seu telemóvel",
    code_intro: "Vamos enviar um código de 6 algarismos para {0}.",
    send_code: "Enviar o código",
    code_sent: "Enviámos um código para {0}. É válido durante 5 minutos.",
    code_label: "Código",
    code_hint: "6 algarismos",
    not_received_link: "Não recebeu a mensagem?",
    not_received_title: "Não recebeu a mensagem",
    not_received_body: "As mensagens podem demorar alguns minutos. Verifique se o número está certo: {0}. Pode pedir um novo código a cada 30 segundos.",
    resend_code: "Enviar um novo código",
    change_mobile: "Alterar o número de telemóvel",
    err_code_format: "Introduza o código de 6 algarismos",
    err_code_wrong: "O código não está certo. Verifique a mensagem e tente de novo",
    err_code_locked: "Demasiados códigos errados. Peça um novo código",
    err_code_none: "O código expirou ou não foi enviado. Peça um novo código",
    err_code_too_soon: "Aguarde antes de pedir um novo código (um a cada 30 segundos, até 5 por hora)",
    face_title: "Verificação facial",
    face_lead: "A fotografia é comparada com a do seu documento de identificação e apagada de seguida: a DSI não a guarda.",
    face_label: "Fotografia do seu rosto",
    face_hint: "Num telemóvel, abre a câmara frontal. JPEG ou PNG, até {0} MB.",
    face_button: "Enviar a fotografia",
    err_face_missing: "Tire ou escolha uma fotografia",
    err_face_failed: "A fotografia não corresponde ao documento de identificação. Tente de novo com boa luz, sem óculos nem chapéu, ou dirija-se a um balcão.",
    err_face_type: "A fotografia tem de ser JPEG ou PNG",
    err_face_large: "A fotografia tem de ter menos de {0} MB",
    err_heic: "Fotografias HEIC do iPhone não são aceites: escolha «Mais compatível» nas definições da câmara, ou tire a fotografia aqui",
    identity_done: "Identidade verificada.",
    check_title: "Verifique as respostas antes de pagar",
    check_application: "O pedido",
    check_holder: "Os seus dados",
    fee_label: "Taxa",
    pay_button: "Pagar {0}",
    exemption_link: "Pedir a isenção da taxa",
    sandbox_title: "Plataforma de pagamento de TESTE (SANDBOX)",
    sandbox_notice: "Esta página substitui a plataforma de pagamento no ambiente de desenvolvimento. Nenhum valor é cobrado.",
    sandbox_amount: "Montante: {0}",
    sandbox_pay: "Pagar {0}",
    sandbox_cancel: "Cancelar e voltar",
    payment_pending_title: "O pagamento ainda não foi confirmado",
    payment_pending_body: "A plataforma de pagamento ainda não avisou a DSI. Se já pagou, volte a verificar daqui a pouco; não será cobrado duas vezes.",
    check_again: "Verificar de novo",
    exemption_title: "Pedir a isenção da taxa",
    exemption_kind_legend: "Porque pede a isenção?",
    files_hint: "PDF, JPEG ou PNG, até {0} MB cada. Fotografias HEIC do iPhone não são aceites: guarde-as primeiro como JPEG.",
    exemption_button: "Enviar o pedido de isenção",
    err_exemption_kind: "Escolha porque pede a isenção",
    err_file_missing: "Anexe {0}",
    err_file_type: "O ficheiro tem de ser PDF, JPEG ou PNG",
    err_file_large: "O ficheiro tem de ter menos de {0} MB",
    err_file_content: "Não foi possível ler o ficheiro: {0}",
    err_file_name: "O nome do ficheiro tem caracteres não aceites: mude-lhe o nome",
    submitted_title: "Pedido enviado",
    exemption_sent_title: "Pedido de isenção enviado",
    reference_label: "A sua referência",
    due_text: "Emitimos o certificado até {0} ({1} dias úteis).",
    what_next: "O que acontece a seguir",
    next_electronic: "Enviamos-lhe uma SMS quando o certificado puder ser descarregado em «Os seus pedidos».",
    next_paper: "Enviamos-lhe uma SMS quando o certificado puder ser levantado em {0}.",
    next_exemption: "Enviamos-lhe uma SMS com a decisão sobre a isenção.",
    receipt_link: "Ver um recibo para imprimir",
    receipt_title: "Recibo",
    amount_paid: "Montante pago",
    date_label: "Data",
    print_hint: "Pode imprimir esta página com a função de impressão do navegador.",
    application_title: "Pedido {0}",
    progress_label: "Situação",
    continue_application: "Continuar o pedido",
    information_heading: "A DSI precisa de mais informações",
    answer_label: "A sua resposta",
    answer_hint: "Até 2000 caracteres.",
    answer_file_label: "Anexo (opcional)",
    answer_button: "Enviar",
    err_answer: "Escreva uma resposta (até 2000 caracteres)",
    certificates_heading: "Os seus certificados",
    download: "Descarregar o certificado {0} (PDF)",
    valid_until: "Válido até",
    transferred_to: "Enviado a",
    transfer_delivered: "entregue em {0}",
    transfer_queued: "a aguardar entrega",
    transfer_rejected: "recusado pelo serviço ({0})",
    no_certificates: "O certificado ainda não foi emitido.",
    err_state: "Não é possível fazer isto na situação actual do pedido.",
};

/// English.
pub const EN: Steps = Steps {
    step_of: "Step {0} of 4",
    back: "Back",
    change: "Change",
    yes: "Yes",
    no: "No",
    change_hidden_prefix: " ",
    select_title: "Choose what you need",
    usage_legend: "What is the certificate for?",
    format_legend: "Electronic or paper certificate?",
    electronic: "Electronic",
    electronic_hint: "A digitally signed PDF to download, or to send straight to a government department.",
    paper: "Paper",
    paper_hint: "Collected at a counter or from a Smart Locker.",
    site_legend: "Where will you collect the paper certificate?",
    site_hint: "For paper certificates only.",
    quantity_label: "How many certificates?",
    quantity_hint: "From 1 to {0}",
    express_legend: "Do you need express processing?",
    standard_option: "Standard: {0} per certificate, within {1} working days",
    express_option: "Express: {0} per certificate, within {1} working days",
    transfer_legend: "Send the certificate straight to a government department?",
    transfer_hint: "Electronic certificates only. The department receives the certificate directly.",
    transfer_none: "No",
    err_usage: "Select what the certificate is for",
    err_format: "Select electronic or paper",
    err_site: "Select where you will collect the certificate",
    err_quantity: "Enter a number from 1 to {0}",
    err_express: "Select whether you need express processing",
    err_transfer: "Select a department from the list",
    confirm_title: "Confirm your details",
    confirm_lead: "These details are printed on the certificate: write them as on your identity document.",
    name_latin_label: "Name in Latin letters",
    name_latin_hint: "As on your identity document.",
    name_chinese_label: "Name in Chinese (if you have one)",
    name_chinese_hint: "Leave empty if you have no Chinese name.",
    dob_label: "Date of birth",
    dob_hint: "For example 1990-03-27",
    doc_type_legend: "Identity document",
    doc_types: [
        ("BIR", "Macao Resident Identity Card"),
        ("TI", "Non-resident Worker Identification Card"),
        ("PASSPORT", "Passport"),
    ],
    doc_number_label: "Document number",
    doc_number_hint: "As printed, for example 1234567(8).",
    notify_lang_legend: "Language of text messages",
    mobile_label: "Mobile phone number",
    mobile_hint: "For example 6123 4567; from outside Macao, with the country code, for example +852 9123 4567.",
    consent_legend: "Consent",
    consent_label: "I agree that the bureau obtains my data from the Public Security Police Force",
    err_name_latin: "Enter your name as on your identity document",
    err_name_chinese: "Enter your Chinese name in Chinese characters only, or leave it empty",
    err_dob: "Enter your date of birth, for example 1990-03-27",
    err_doc_type: "Select your identity document",
    err_doc_number: "Enter the document number as printed, with digits and letters only",
    err_notify_lang: "Select the language of text messages",
    err_mobile: "Enter a mobile phone number, like 6123 4567",
    err_consent: "To continue, agree that the bureau obtains your data",
    err_unprintable: "Some details cannot be printed on a certificate: check the names",
    counter_title: "Apply at a counter",
    counter_body: "Non-resident workers applying for the first time must apply in person, so that the bureau can check their identity document. This is not a mistake on your part.",
    counter_where: "Bring your Non-resident Worker Identification Card to one of these counters:",
    code_title: "Enter the code sent to your phone",
    code_intro: "We will send a 6-digit code to {0}.",
    send_code: "Send the code",
    code_sent: "We have sent a code to {0}. It is valid for 5 minutes.",
    code_label: "Code",
    code_hint: "6 digits",
    not_received_link: "Not received a text message?",
    not_received_title: "Not received a text message",
    not_received_body: "Text messages can take a few minutes. Check that the number is right: {0}. You can ask for a new code every 30 seconds.",
    resend_code: "Send a new code",
    change_mobile: "Change the mobile number",
    err_code_format: "Enter the 6-digit code",
    err_code_wrong: "The code is not right. Check the text message and try again",
    err_code_locked: "Too many wrong codes. Ask for a new code",
    err_code_none: "The code has expired or was not sent. Ask for a new code",
    err_code_too_soon: "Wait before asking for a new code (one every 30 seconds, up to 5 an hour)",
    face_title: "Face check",
    face_lead: "Your photo is compared with the photo of your identity document and then deleted: the bureau does not keep it.",
    face_label: "Photo of your face",
    face_hint: "On a phone this opens the front camera. JPEG or PNG, up to {0} MB.",
    face_button: "Send the photo",
    err_face_missing: "Take or choose a photo",
    err_face_failed: "The photo did not match your identity document. Try again in good light, without glasses or a hat, or apply at a counter.",
    err_face_type: "The photo must be a JPEG or PNG",
    err_face_large: "The photo must be smaller than {0} MB",
    err_heic: "iPhone HEIC photos are not accepted: choose “Most Compatible” in the camera settings, or take the photo here",
    identity_done: "Your identity is verified.",
    check_title: "Check your answers before paying",
    check_application: "Your application",
    check_holder: "Your details",
    fee_label: "Fee",
    pay_button: "Pay {0}",
    exemption_link: "Ask for a fee exemption instead",
    sandbox_title: "SANDBOX payment gateway (test)",
    sandbox_notice: "This page stands in for the payment gateway in development. No money is taken.",
    sandbox_amount: "Amount: {0}",
    sandbox_pay: "Pay {0}",
    sandbox_cancel: "Cancel and go back",
    payment_pending_title: "Your payment is not confirmed yet",
    payment_pending_body: "The payment gateway has not told the bureau yet. If you have paid, check again in a moment; you will not be charged twice.",
    check_again: "Check again",
    exemption_title: "Ask for a fee exemption",
    exemption_kind_legend: "Why are you asking for an exemption?",
    files_hint: "PDF, JPEG or PNG, up to {0} MB each. iPhone HEIC photos are not accepted: save them as JPEG first.",
    exemption_button: "Send the exemption request",
    err_exemption_kind: "Select why you are asking for an exemption",
    err_file_missing: "Attach {0}",
    err_file_type: "The file must be a PDF, JPEG or PNG",
    err_file_large: "The file must be smaller than {0} MB",
    err_file_content: "The file could not be read: {0}",
    err_file_name: "The file name has characters we do not accept: rename the file",
    submitted_title: "Application submitted",
    exemption_sent_title: "Exemption request sent",
    reference_label: "Your reference",
    due_text: "We will issue your certificate by {0} ({1} working days).",
    what_next: "What happens next",
    next_electronic: "We will send you a text message when you can download the certificate from “Your applications”.",
    next_paper: "We will send you a text message when you can collect the certificate at {0}.",
    next_exemption: "We will send you a text message with the decision on the exemption.",
    receipt_link: "View a printable receipt",
    receipt_title: "Receipt",
    amount_paid: "Amount paid",
    date_label: "Date",
    print_hint: "You can print this page with your browser's print function.",
    application_title: "Application {0}",
    progress_label: "Progress",
    continue_application: "Continue your application",
    information_heading: "The bureau needs more information",
    answer_label: "Your answer",
    answer_hint: "Up to 2000 characters.",
    answer_file_label: "Attachment (optional)",
    answer_button: "Send",
    err_answer: "Enter an answer (up to 2000 characters)",
    certificates_heading: "Your certificates",
    download: "Download certificate {0} (PDF)",
    valid_until: "Valid until",
    transferred_to: "Sent to",
    transfer_delivered: "delivered at {0}",
    transfer_queued: "waiting to be delivered",
    transfer_rejected: "refused by the department ({0})",
    no_certificates: "The certificate has not been issued yet.",
    err_state: "This cannot be done at the application's current stage.",
};

impl Steps {
    /// "Step n of 4".
    pub fn step(&self, n: u8) -> String {
        fill(self.step_of, &[&n.to_string()])
    }

    /// An identity document type's name.
    pub fn doc_type_name(&self, code: &str) -> &'static str {
        self.doc_types
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("", |(_, name)| name)
    }
}
