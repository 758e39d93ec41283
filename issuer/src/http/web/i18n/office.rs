//! The strings of the back office (`/staff`) and the department portal (`/department`).
//! Each string is written once with its three languages side by side; a missing language is
//! a compile error.

/// Declares the catalog struct and its three languages from one table.
macro_rules! office_catalog {
    ($($(#[$doc:meta])* $name:ident: $zh:literal | $pt:literal | $en:literal,)*) => {
        /// Every string of the back office and the department portal.
        #[derive(Debug)]
        pub struct Office {
            $($(#[$doc])* pub $name: &'static str,)*
        }
        /// Traditional Chinese.
        pub const ZH: Office = Office { $($name: $zh,)* };
        /// Portuguese.
        pub const PT: Office = Office { $($name: $pt,)* };
        /// English.
        pub const EN: Office = Office { $($name: $en,)* };
    };
}

office_catalog! {
    /// The back office's name.
    staff_area: "職員工作區" | "Área do pessoal" | "Staff area",
    /// The department portal's name.
    department_area: "部門專區" | "Área dos serviços públicos" | "Department area",
    /// Sign-in heading.
    sign_in_title: "登入" | "Iniciar sessão" | "Sign in",
    /// Username label.
    username: "用戶名稱" | "Nome de utilizador" | "Username",
    /// Password label.
    password: "密碼" | "Palavra-passe" | "Password",
    /// Continue button.
    continue_button: "繼續" | "Continuar" | "Continue",
    /// Wrong username or password.
    wrong_password: "用戶名稱或密碼不正確" | "O nome de utilizador ou a palavra-passe não estão correctos" | "The username or password is not right",
    /// Too many attempts.
    too_many_attempts: "嘗試次數過多，請稍後再試" | "Demasiadas tentativas; tente mais tarde" | "Too many attempts; try again later",
    /// Second-factor heading.
    code_title: "輸入驗證碼" | "Introduza o código de verificação" | "Enter your verification code",
    /// Its hint.
    code_hint: "打開驗證器應用程式，輸入顯示的 6 位數字。每個驗證碼只可使用一次。" | "Abra a aplicação de autenticação e introduza os 6 dígitos que mostra. Cada código só pode ser usado uma vez." | "Open your authenticator app and enter the 6 digits it shows. Each code can be used once.",
    /// Code label.
    code_label: "驗證碼" | "Código de verificação" | "Verification code",
    /// Wrong code.
    wrong_code: "驗證碼不正確、已過期或已使用" | "O código não está correcto, expirou ou já foi usado" | "The code is wrong, expired or already used",
    /// Sign out.
    sign_out: "登出" | "Terminar sessão" | "Sign out",
    /// Signed in as.
    signed_in_as: "已登入：" | "Sessão iniciada como" | "Signed in as",
    /// Navigation label.
    navigation: "職員選單" | "Menu" | "Menu",
    /// Queue.
    queue: "工作隊列" | "Fila de trabalho" | "Work queue",
    /// Registry.
    registry: "刑事紀錄登記" | "Registo criminal" | "Record registry",
    /// Certificates.
    certificates: "證明書" | "Certificados" | "Certificates",
    /// Audit log.
    audit: "審計紀錄" | "Registo de auditoria" | "Audit log",
    /// Departments.
    departments: "部門" | "Serviços públicos" | "Departments",
    /// Staff accounts.
    accounts: "職員帳戶" | "Contas do pessoal" | "Staff accounts",
    /// Development outbox.
    outbox: "訊息寄件匣（開發用）" | "Mensagens enviadas (desenvolvimento)" | "Outbox (development)",
    /// Counts per state.
    counts_heading: "各狀態申請數目" | "Pedidos por estado" | "Applications by state",
    /// Filters.
    filters: "篩選" | "Filtros" | "Filters",
    /// State.
    state: "狀態" | "Estado" | "State",
    /// All open.
    all_open: "全部待處理" | "Todos os pendentes" | "All open",
    /// Speed.
    speed: "服務類別" | "Modalidade" | "Service",
    /// Any.
    any: "全部" | "Todos" | "Any",
    /// Standard.
    standard: "普通" | "Normal" | "Standard",
    /// Express.
    express: "特快" | "Urgente" | "Express",
    /// Only mine.
    mine: "只顯示分配給我的" | "Só os atribuídos a mim" | "Only cases assigned to me",
    /// Sort.
    sort: "排序" | "Ordenar por" | "Sort by",
    /// Due first.
    sort_due: "逾期優先，然後按到期日" | "Em atraso primeiro, depois prazo" | "Overdue first, then due date",
    /// Waiting longest.
    sort_waiting: "等候最久" | "Há mais tempo à espera" | "Waiting longest",
    /// Reference.
    sort_reference: "編號" | "Referência" | "Reference",
    /// Apply filters.
    apply_filters: "套用" | "Aplicar" | "Apply",
    /// Reference column.
    reference: "申請編號" | "Referência" | "Reference",
    /// Holder.
    holder: "持有人" | "Titular" | "Holder",
    /// Due date.
    due: "承諾完成日期" | "Prazo" | "Due",
    /// Overdue tag.
    overdue: "逾期" | "Em atraso" | "Overdue",
    /// Assigned to.
    assigned: "負責人" | "Atribuído a" | "Assigned to",
    /// Empty queue.
    queue_empty: "沒有符合條件的申請。" | "Não há pedidos com estes filtros." | "No applications match these filters.",
    /// Case heading.
    case_title: "申請" | "Pedido" | "Application",
    /// Summary heading.
    details: "申請資料" | "Dados do pedido" | "Details",
    /// Usage.
    usage: "用途" | "Finalidade" | "Usage",
    /// Format.
    format: "形式" | "Formato" | "Format",
    /// Electronic.
    electronic: "電子" | "Electrónico" | "Electronic",
    /// Paper.
    paper: "紙本" | "Papel" | "Paper",
    /// Quantity.
    quantity: "份數" | "Quantidade" | "Quantity",
    /// Collection site.
    site: "領取地點" | "Local de levantamento" | "Collection site",
    /// Identity document.
    document: "身份證明文件" | "Documento de identificação" | "Identity document",
    /// Date of birth.
    date_of_birth: "出生日期" | "Data de nascimento" | "Date of birth",
    /// Mobile.
    mobile: "手提電話" | "Telemóvel" | "Mobile",
    /// Fee.
    fee: "費用" | "Taxa" | "Fee",
    /// Exemption.
    exemption: "豁免" | "Isenção" | "Exemption",
    /// Transfer.
    transfer: "轉交部門" | "Envio ao serviço" | "Transfer to",
    /// Note.
    note: "最近訊息" | "Última mensagem" | "Last message",
    applicant_answer: "申請人的回覆" | "Resposta do requerente" | "The applicant's answer",
    /// Identity mismatch warning.
    identity_mismatch: "持有人的證件與登入時核實的證件不同" | "O documento do titular não é o verificado no início de sessão" | "The holder's document is not the one verified at sign-in",
    /// Same-day collection.
    same_day: "即日領取時間" | "Levantamento no mesmo dia a partir de" | "Same-day collection from",
    /// Supporting documents.
    documents: "證明文件" | "Documentos" | "Supporting documents",
    /// No documents.
    no_documents: "沒有上載文件。" | "Não foram carregados documentos." | "No documents uploaded.",
    /// View (opens inline).
    view: "查看" | "Ver" | "View",
    /// Issued certificates.
    issued: "已發出的證明書" | "Certificados emitidos" | "Issued certificates",
    /// History.
    history: "處理紀錄" | "Histórico" | "History",
    /// When.
    when: "時間" | "Quando" | "When",
    /// Who.
    who: "人員" | "Quem" | "Who",
    /// What.
    what: "動作" | "O quê" | "What",
    /// Actions.
    actions: "可採取的行動" | "Acções" | "Actions",
    /// No actions.
    no_actions: "您的職位在此狀態下沒有可採取的行動。" | "O seu perfil não tem acções neste estado." | "Your role has no action in this state.",
    /// Assign to me.
    assign_to_me: "由我處理" | "Atribuir a mim" | "Assign to me",
    /// Forward.
    forward: "核對完畢，轉交主管" | "Verificado: enviar ao chefe" | "Checked: forward to an officer",
    /// Request information.
    request_information: "要求補交資料" | "Pedir informações" | "Request information",
    /// Message to applicant.
    message_to_applicant: "給申請人的訊息" | "Mensagem ao requerente" | "Message to the applicant",
    /// Message hint.
    message_hint: "申請人會收到短訊，並在申請頁面看到這段訊息。" | "O requerente recebe um SMS e vê esta mensagem na página do pedido." | "The applicant gets an SMS and sees this message on the application's page.",
    /// Send request.
    send_request: "發出要求" | "Enviar pedido" | "Send request",
    /// Read record entries.
    read_records: "查閱刑事紀錄並作決定" | "Consultar o registo e decidir" | "Read the record entries and decide",
    /// Records heading.
    records_title: "刑事紀錄" | "Registo criminal" | "Record entries",
    /// Read audited.
    records_audited: "此查閱已記入審計紀錄。" | "Esta consulta ficou registada na auditoria." | "This reading is recorded in the audit log.",
    /// No records.
    no_records: "沒有紀錄：證明書將載明「沒有刑事紀錄」。" | "Nada consta: o certificado dirá «Nada consta»." | "Nothing on record: the certificate will state \"No criminal record\".",
    /// Court.
    court: "法院" | "Tribunal" | "Court",
    /// Case number.
    case_number: "案件編號" | "Processo n.º" | "Case number",
    /// Decision date.
    decision_date: "判決日期" | "Data da decisão" | "Decision date",
    /// Offence.
    offence: "罪名" | "Crime" | "Offence",
    /// Sentence.
    sentence: "刑罰" | "Pena" | "Sentence",
    /// Disclosed for this usage.
    disclosed: "此用途會載明" | "Consta para esta finalidade" | "Shown for this usage",
    /// Disclosed for.
    disclosed_for: "載明於以下用途" | "Consta para as finalidades" | "Shown for usages",
    /// Approve.
    approve: "批准並發出" | "Aprovar e emitir" | "Approve and issue",
    /// Identity override reason.
    identity_override: "批准理由（證件不同）" | "Motivo da aprovação (documento diferente)" | "Reason for approving (different document)",
    /// Reject.
    reject: "拒絕申請" | "Indeferir o pedido" | "Reject the application",
    /// Reason.
    reason: "理由" | "Motivo" | "Reason",
    /// Reason needed.
    reason_required: "請輸入理由" | "Indique o motivo" | "Enter a reason",
    /// Confirm by reference.
    confirm_reference: "輸入編號以確認" | "Escreva a referência para confirmar" | "Type the reference to confirm",
    /// Its hint.
    confirm_hint: "此行動不能撤回。請輸入" | "Esta acção não pode ser desfeita. Escreva" | "This cannot be undone. Type",
    /// Wrong confirmation.
    confirm_mismatch: "輸入的編號與此個案不符" | "A referência escrita não é a deste caso" | "The reference typed is not this case's",
    /// Exemption decision.
    decide_exemption: "決定豁免申請" | "Decidir a isenção" | "Decide the exemption",
    /// Approve exemption.
    approve_exemption: "批准豁免" | "Aprovar a isenção" | "Approve the exemption",
    /// Refuse exemption.
    refuse_exemption: "拒絕豁免" | "Recusar a isenção" | "Refuse the exemption",
    /// Certificate heading.
    certificate_title: "證明書" | "Certificado" | "Certificate",
    /// Find certificate.
    find_certificate: "查找證明書" | "Procurar certificado" | "Find a certificate",
    /// Certificate number.
    certificate_number: "證明書編號" | "Número do certificado" | "Certificate number",
    /// Not found.
    not_found: "找不到" | "Não encontrado" | "Not found",
    /// Status.
    status: "狀態" | "Estado" | "Status",
    /// Issued at.
    issued_at: "發出時間" | "Emitido em" | "Issued",
    /// Valid until.
    valid_until: "有效至" | "Válido até" | "Valid until",
    /// Application.
    application: "申請" | "Pedido" | "Application",
    /// Change status.
    change_status: "更改狀態" | "Alterar o estado" | "Change the status",
    /// Revoke.
    revoke: "撤銷" | "Revogar" | "Revoke",
    /// Suspend.
    suspend: "暫停" | "Suspender" | "Suspend",
    /// Reinstate.
    reinstate: "恢復有效" | "Reactivar" | "Reinstate",
    /// Re-issue.
    reissue: "重新發出" | "Reemitir" | "Re-issue",
    /// Action label.
    action: "行動" | "Acção" | "Action",
    /// Done banners.
    done: "已完成：" | "Feito:" | "Done:",
    /// Registry lookup.
    registry_lookup: "按證件查找紀錄" | "Procurar por documento" | "Look up by identity document",
    /// Document type.
    document_type: "證件類別" | "Tipo de documento" | "Document type",
    /// Document number.
    document_number: "證件號碼" | "Número do documento" | "Document number",
    /// Look up.
    look_up: "查找" | "Procurar" | "Look up",
    /// Add entry.
    add_entry: "新增紀錄" | "Acrescentar registo" | "Add an entry",
    /// Correct an entry.
    correct_entry: "更正紀錄" | "Corrigir o registo" | "Correct the entry",
    /// Close an entry.
    close_entry: "結束紀錄（不再載明）" | "Encerrar o registo (deixa de constar)" | "Close the entry (never shown again)",
    /// Closed.
    closed: "已結束" | "Encerrado" | "Closed",
    /// Save.
    save: "儲存" | "Guardar" | "Save",
    /// Date format hint.
    date_hint: "格式：2024-03-31" | "Formato: 2024-03-31" | "Format: 2024-03-31",
    /// Audit chain verified.
    chain_verified: "審計紀錄完整：雜湊鏈已驗證，共 {0} 項。" | "Registo íntegro: cadeia de hash verificada, {0} entradas." | "Audit log intact: hash chain verified over {0} entries.",
    /// Audit chain broken.
    chain_broken: "審計紀錄被改動：" | "O registo de auditoria foi alterado:" | "The audit log has been altered:",
    /// Entry.
    entry: "項目" | "Entrada" | "Entry",
    /// Subject.
    subject: "對象" | "Objecto" | "Subject",
    /// Detail.
    detail: "詳情" | "Detalhe" | "Detail",
    /// Older entries.
    older: "較舊的紀錄" | "Entradas anteriores" | "Older entries",
    /// Code.
    code: "代號" | "Código" | "Code",
    /// Name.
    name: "名稱" | "Nome" | "Name",
    /// Active.
    active: "啟用" | "Activo" | "Active",
    /// Inactive.
    inactive: "停用" | "Inactivo" | "Inactive",
    /// API credentials.
    api_credentials: "系統介接憑證" | "Credenciais de API" | "API credentials",
    /// Issue credentials.
    issue_credentials: "發出新的系統介接憑證" | "Emitir novas credenciais de API" | "Issue new API credentials",
    /// Credentials shown once.
    credentials_once: "系統用戶端密碼只會顯示這一次；舊密碼已即時失效。" | "O segredo do cliente só é mostrado esta vez; o anterior deixou de funcionar." | "The client secret is shown only this once; the old one has stopped working.",
    /// Client id.
    client_id: "用戶端代號" | "Identificador do cliente" | "Client id",
    /// Client secret.
    client_secret: "用戶端密碼" | "Segredo do cliente" | "Client secret",
    /// Deactivate.
    deactivate: "停用" | "Desactivar" | "Deactivate",
    /// Activate.
    activate: "啟用" | "Activar" | "Activate",
    /// Push endpoint.
    endpoint: "接收端點（HTTPS）" | "Endereço de recepção (HTTPS)" | "Push endpoint (HTTPS)",
    /// Receipt key.
    receipt_key: "回執驗證公鑰（PEM）" | "Chave pública dos recibos (PEM)" | "Receipt-verification public key (PEM)",
    /// Register endpoint.
    register_endpoint: "登記接收端點" | "Registar o endereço de recepção" | "Register the push endpoint",
    /// Not registered.
    not_registered: "未登記" | "Não registado" | "Not registered",
    /// Users.
    users: "用戶" | "Utilizadores" | "Users",
    /// Add department user.
    add_department_user: "新增部門用戶" | "Acrescentar utilizador do serviço" | "Add a department user",
    /// Department.
    department: "部門" | "Serviço" | "Department",
    /// Role.
    role: "職位" | "Perfil" | "Role",
    /// Add staff.
    add_staff: "新增職員帳戶" | "Acrescentar conta do pessoal" | "Add a staff account",
    /// Clerk.
    clerk: "文員" | "Escriturário" | "Clerk",
    /// Officer.
    officer: "主管" | "Chefia" | "Officer",
    /// Security officer.
    security_officer: "保安主任" | "Responsável de segurança" | "Security officer",
    /// Password hint.
    password_hint: "最少 12 個字元。請以安全途徑交給用戶。" | "Pelo menos 12 caracteres. Entregue-a ao utilizador por meio seguro." | "At least 12 characters. Give it to the user by a safe channel.",
    /// Create.
    create: "建立" | "Criar" | "Create",
    /// Enrolment heading.
    enrolment_title: "設定第二重驗證" | "Configurar o segundo factor" | "Set up the second factor",
    /// Enrolment body.
    enrolment_body: "以驗證器應用程式掃描此二維碼，或輸入下面的密鑰。此頁只會顯示一次。" | "Leia este código QR com a aplicação de autenticação ou escreva a chave abaixo. Esta página só é mostrada uma vez." | "Scan this QR code with an authenticator app, or type the key below. This page is shown only once.",
    /// Key.
    key: "密鑰" | "Chave" | "Key",
    /// Recipient.
    recipient: "收件人" | "Destinatário" | "Recipient",
    /// Message.
    message: "訊息" | "Mensagem" | "Message",
    /// Sent.
    sent: "已送出" | "Enviada" | "Sent",
    /// Inbox.
    inbox: "收到的證明書" | "Certificados recebidos" | "Certificates received",
    /// Inbox empty.
    inbox_empty: "尚未收到任何證明書。" | "Ainda não recebeu certificados." | "No certificates have been transferred to you yet.",
    /// Notices.
    notices: "通知" | "Avisos" | "Notices",
    /// Unread notices.
    unread_notices: "未讀通知" | "Avisos por ler" | "Unread notices",
    /// No notices.
    no_notices: "沒有通知。" | "Não há avisos." | "No notices.",
    /// Unread.
    unread: "未讀" | "Por ler" | "Unread",
    /// Acknowledge.
    acknowledge: "確認已閱" | "Tomei conhecimento" | "Acknowledge",
    /// Acknowledged by.
    acknowledged: "已確認" | "Lido" | "Acknowledged",
    /// Download.
    download: "下載 PDF" | "Descarregar o PDF" | "Download the PDF",
    /// Verify someone's certificate.
    verify_brought: "核實他人交來的證明書" | "Verificar um certificado apresentado" | "Verify a certificate someone brought",
    /// Certificate status names.
    status_valid: "有效" | "Válido" | "Valid",
    /// Revoked.
    status_revoked: "已撤銷" | "Revogado" | "Revoked",
    /// Suspended.
    status_suspended: "已暫停" | "Suspenso" | "Suspended",
    /// Superseded.
    status_superseded: "已被取代" | "Substituído" | "Superseded",
    /// Expired.
    status_expired: "已過期" | "Caducado" | "Expired",
    /// Printing.
    printing: "列印" | "Impressão" | "Printing",
    /// Print queue empty.
    print_queue_empty: "沒有待列印的紙本證明書。" | "Não há certificados em papel por imprimir." | "No paper certificates are waiting to be printed.",
    /// Select.
    select: "選擇" | "Seleccionar" | "Select",
    /// Print-ready batch.
    print_batch: "下載所選的列印檔（PDF）" | "Descarregar o PDF para impressão dos seleccionados" | "Download a print-ready PDF of the selected",
    /// Mark printed.
    mark_printed: "將所選標記為已列印" | "Marcar os seleccionados como impressos" | "Mark the selected as printed",
    /// None selected.
    none_selected: "請最少選擇一項" | "Seleccione pelo menos um" | "Select at least one",
    /// Paper item.
    paper_item: "紙本證明書" | "Certificado em papel" | "Paper certificate",
    /// Printed by.
    printed: "已列印" | "Impresso" | "Printed",
    /// Collected by.
    collected: "已領取" | "Levantado" | "Collected",
    /// Where it is.
    where_now: "現在位置" | "Onde está" | "Where it is",
    /// Counter collection.
    counter_collection: "櫃台領取" | "Levantamento ao balcão" | "Counter collection",
    /// Who collects.
    who_collects: "由誰領取？" | "Quem levanta?" | "Who collects?",
    /// The holder.
    by_holder: "持有人本人" | "O próprio titular" | "The holder",
    /// A representative.
    by_representative: "獲授權的代表" | "Um representante autorizado" | "An authorised representative",
    /// Representative's name.
    representative_name: "代表姓名（按證件）" | "Nome do representante (como no documento)" | "Representative's name (as on their document)",
    /// Authorisation reference.
    authorisation: "授權書編號" | "Referência da autorização" | "Authorisation reference",
    /// The counter.
    counter: "櫃台" | "Balcão" | "Counter",
    /// Record collection.
    record_collection: "記錄領取" | "Registar o levantamento" | "Record the collection",
    /// Place in locker.
    deposit_locker: "已放入智能櫃，發送取件碼" | "Colocado no cacifo: enviar o código" | "Placed in the Smart Locker: send the pickup code",
    /// Locker pickup code (applicant).
    locker_code: "智能櫃取件碼" | "Código do cacifo" | "Smart Locker pickup code",
    /// Locker deadline.
    locker_until: "請於以下時間前領取" | "Levante até" | "Collect before",
    /// Yes.
    yes: "是" | "Sim" | "Yes",
    /// No.
    no: "否" | "Não" | "No",
    /// Signing keys (menu and title).
    keys: "簽署金鑰" | "Chaves de assinatura" | "Signing keys",
    /// The key registry's version.
    key_sequence: "金鑰登記版本：{0}" | "Versão do registo de chaves: {0}" | "Key registry version {0}",
    /// Key role column.
    key_role: "用途" | "Função" | "Role",
    /// Key id column.
    key_id: "金鑰編號" | "Identificador da chave" | "Key id",
    /// Key state column.
    key_state: "狀態" | "Estado" | "State",
    /// Active from column.
    key_active_from: "啟用時間" | "Em uso desde" | "Signs from",
    /// Retired at column.
    key_retired_at: "停用時間" | "Retirada em" | "Retired at",
    /// Compromised since column.
    key_compromised_since: "洩露時間" | "Comprometida desde" | "Compromised since",
    /// Pending key.
    key_pending: "準備中" | "Em preparação" | "Pending",
    /// Published key.
    key_published: "已公佈，未啟用" | "Publicada, ainda sem uso" | "Published, not yet signing",
    /// Retired key.
    key_retired: "已停用（只供核實）" | "Retirada (só verificação)" | "Retired (verify only)",
    /// Removed key.
    key_removed: "已移除" | "Removida" | "Removed",
    /// Declaration heading.
    declare_compromise: "宣告金鑰洩露" | "Declarar uma chave comprometida" | "Declare a key compromised",
    /// What a declaration does.
    compromise_intro: "宣告後：撤銷該金鑰的證書、立即改用新金鑰、重新發出所有受影響的證明書，並公佈新的信任清單。此操作不可撤回。請按照《金鑰洩露應變程序》（docs/key-compromise.md）處理。" | "A declaração revoga o certificado da chave, passa de imediato a uma chave nova, reemite todos os certificados afectados e publica a nova lista de confiança. Não pode ser desfeita. Siga o procedimento em docs/key-compromise.md." | "Declaring revokes the key's certificate, switches to a fresh key at once, re-issues every affected certificate and publishes the new trust bundle. It cannot be undone. Follow the playbook in docs/key-compromise.md.",
    /// Since label.
    compromise_since: "最早可能洩露的時間（澳門時間）" | "Momento mais cedo em que pode ter sido comprometida (hora de Macau)" | "Earliest moment it may have been compromised (Macao time)",
    /// Since hint.
    compromise_since_hint: "例如 2026-12-05 03:00。如不確定，請選較早的時間。" | "Por exemplo 2026-12-05 03:00. Na dúvida, escolha mais cedo." | "For example 2026-12-05 03:00. When unsure, choose earlier.",
    /// Since invalid.
    compromise_since_invalid: "請以 年-月-日 時:分 輸入一個不晚於現在的時間" | "Indique um momento não posterior a agora, como ano-mês-dia hora:minuto" | "Enter a moment no later than now, as year-month-day hour:minute",
    /// The key id typed is wrong.
    key_confirm_mismatch: "輸入的金鑰編號不是此用途現用的金鑰" | "O identificador escrito não é o da chave em uso desta função" | "The key id typed is not this role's signing key",
    /// The declared banner.
    compromise_declared: "已宣告金鑰洩露；已重新發出 {0} 份證明書。" | "Chave declarada comprometida; {0} certificado(s) reemitido(s)." | "Key declared compromised; {0} certificate(s) re-issued.",
    /// Forbidden page body for staff.
    not_for_your_role: "您的職位不能使用此頁。" | "O seu perfil não pode usar esta página." | "Your role cannot use this page.",
}
