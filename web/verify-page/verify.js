// Verification page of the Certificate of Criminal Record (SPEC §4–§7).
//
// Served by both services (web/src/verify_page.rs): the verifier, and the issuer at its verify
// URL. Two ways in:
//  - a PDF, dropped or chosen, is POSTed to /api/v1/verify and the server's report is shown
//    (where the page has the upload: the issuer's copy verifies QR codes only and links to a
//    verifier for PDFs);
//  - the QR landing page, <verify URL>#<base64url COSE_Sign1>, is verified HERE, in the browser:
//    CBOR and COSE decoded below, the ES256 signature checked with WebCrypto against the token
//    signers the server publishes at /api/v1/trust, and the certificate's status read from the
//    status list fetched AS A WHOLE from the issuer. The token itself is never sent anywhere:
//    no request carries it (it stays in the fragment, which browsers never transmit).
//
// The token carries the usage's code; its names (zh/pt/en) come with /api/v1/trust, from the
// issuer's configuration, and the page shows the name in its language.
//
// Test hook: `?now=<unix seconds>` in the page URL sets the clock the QR path judges at. It is
// read at every check, so a test may move it with history.replaceState without reloading (and
// so without losing the in-memory status list cache). It carries no token. It cannot make a
// certificate look valid: the trusted "now" is never earlier than the newest status list
// signed (SPEC §5), and a list is always fetched (or reused within its ttl) before judging, so
// the hook can only move the clock forward; the page says when the clock was set this way.
//
// Content-Security-Policy friendly: no inline script or style, no eval, no external resources.
'use strict';

(() => {
  // -----------------------------------------------------------------------------------------
  // Strings (zh: Traditional Chinese as used in Macao; pt: European Portuguese as in Macao)

  const STRINGS = {
    zh: {
      html_lang: 'zh-Hant-MO',
      skip: '跳至主要內容',
      bureau: '澳門特別行政區政府 身份證明局',
      title: '刑事紀錄證明書核實',
      doc_title: '刑事紀錄證明書核實 — 身份證明局',
      language: '語言',
      fields_heading: '證明書資料',
      checks_heading: '核實項目',
      recheck: '重新核實',
      another: '核實另一份證明書',
      checking: '正在核實…',
      upload_heading: '核實 PDF 證明書',
      drop_here: '將證明書 PDF 檔案拖放到此處',
      or: '或',
      choose_file: '選擇檔案',
      upload_hint: '檔案只用於核實，不會被保存。',
      about_heading: '關於核實',
      about_qr: '以手機相機掃描證明書上的二維碼即可開啟此頁。二維碼在您的瀏覽器內核實，其內容不會傳送至任何伺服器；瀏覽器只會下載整份狀態清單（涵蓋不少於 131,072 份證明書）。',
      about_pdf: '上載的 PDF 由本部門的核實服務檢查電子簽名、時間戳、二維碼及證明書狀態，不會被保存。',
      pdf_elsewhere: '此頁只核實證明書上的二維碼。PDF 檔案由各部門的核實服務核實。',
      pdf_elsewhere_link: '前往 PDF 核實服務',
      footer: '澳門特別行政區政府 身份證明局',
      source_pdf: '已核實檔案：{name}',
      source_qr: '已在此瀏覽器內核實二維碼',
      checked_at: '核實時間：{time}',
      clock_override: '（時間由網址指定）',
      verdict: {
        VALID: '有效',
        INVALID_SIGNATURE: '簽名無效',
        MODIFIED: '文件已被修改',
        UNTRUSTED: '來源不可信',
        MISMATCH: '資料不符',
        REVOKED: '已撤銷',
        SUPERSEDED: '已被取代',
        SUSPENDED: '已暫停',
        EXPIRED: '已過期',
        NOT_YET_VALID: '尚未生效',
        STATUS_UNKNOWN: '狀態未能確認',
        MALFORMED: '無法讀取',
        ERROR: '未能完成核實',
      },
      sentence: {
        VALID: '此證明書真實、未經修改、在有效期內，且未被撤銷。',
        INVALID_SIGNATURE: '電子簽名缺失或損壞。請勿接受此證明書。',
        MODIFIED: '文件在簽署後曾被修改。請勿接受此證明書。',
        UNTRUSTED: '簽名並非來自身份證明局。請勿接受此證明書。',
        MISMATCH: '二維碼與文件內容不一致。請勿接受此證明書。',
        REVOKED: '此證明書已被身份證明局撤銷。請勿接受此證明書。',
        SUPERSEDED: '此證明書已被重新發出的證明書取代。請要求出示最新的證明書。',
        SUSPENDED: '此證明書現已暫停。請向身份證明局查詢。',
        EXPIRED: '此證明書的有效期已屆滿。請要求出示新的證明書。',
        NOT_YET_VALID: '此證明書尚未生效。請檢查裝置的日期及時間。',
        STATUS_UNKNOWN: '簽名真實，但未能確認證明書的最新狀態。請稍後再試；在確認前不應視為有效。',
        MALFORMED: '無法將此檔案或二維碼識別為證明書。',
        ERROR: '暫時未能完成核實（{why}）。請稍後再試。',
      },
      field: {
        number: '證明書編號',
        name_latin: '姓名（外文）',
        name_chinese: '中文姓名',
        date_of_birth: '出生日期',
        document: '身份證明文件',
        usage: '用途',
        record_result: '刑事紀錄',
        transfer_to: '接收部門',
        issued_at: '發出時間',
        valid_until: '有效期至',
        days_remaining: '剩餘日數',
      },
      doc_type: { BIR: '澳門居民身份證', TI: '外地僱員身份認別證', PASSPORT: '護照' },
      record_none: '無犯罪紀錄',
      record_some: '有 {n} 項紀錄',
      days: '{n} 日',
      check: {
        file: '檔案',
        signature_structure: '簽名結構',
        cms_signature: '電子簽名',
        timestamp: '時間戳',
        signer_chain: '簽署人證書',
        token: '二維碼',
        validity: '有效期',
        status: '證明書狀態',
      },
      outcome: { pass: '通過', fail: '不通過', skip: '未檢查' },
      age_fresh: '狀態清單於 {age}前簽發',
      age_asof: '狀態截至 {time}（清單已簽發{age}）',
      age_none: '未能取得有效的狀態清單',
      seconds: '{n} 秒',
      minutes: '{n} 分鐘',
      hours: '{n} 小時',
      err: {
        busy: '服務繁忙',
        network: '網絡錯誤',
        server: '伺服器錯誤 {code}',
        no_crypto: '此瀏覽器不支援所需的加密功能（需要 HTTPS）',
        trust: '未能取得可信的簽署金鑰',
      },
      d: {
        token_pass: '由身份證明局的二維碼簽署金鑰簽署（{kid}）。',
        token_malformed: '無法讀取二維碼：{why}',
        token_untrusted: '二維碼的簽署金鑰（{kid}）不在此核實服務信任的金鑰之中。',
        token_key_time: '二維碼簽發時（{time}），其簽署金鑰（{kid}）不在有效期內。',
        token_badsig: '二維碼的電子簽名無法核實。',
        token_skip: '二維碼並非真實：不顯示其任何內容。',
        validity_current: '有效至 {until}（尚餘 {days} 日）。',
        validity_expired: '已過期：有效期至 {until}。',
        validity_notyet: '發出時間為 {at}，遲於核實時間。',
        status_value: '{value}；{fresh}',
        status_fresh: '清單於 {age}前簽發（在有效緩存時間內）',
        status_stale: '狀態截至 {time}（清單已簽發{age}，超過緩存時間）',
        status_unavailable: '沒有可用的狀態清單（{why}）：狀態未知。',
        status_expired: '狀態清單已於 {time} 失效：狀態未知。',
        status_other_list: '取得的狀態清單是 {got}，而不是 {want}。',
        status_index: '索引 {idx} 超出狀態清單範圍。',
      },
      status_value: { VALID: '有效', REVOKED: '已撤銷', SUSPENDED: '已暫停', SUPERSEDED: '已被重新發出的證明書取代' },
    },
    pt: {
      html_lang: 'pt-MO',
      skip: 'Saltar para o conteúdo principal',
      bureau: 'Governo da RAEM · Direcção dos Serviços de Identificação',
      title: 'Verificação do Certificado de Registo Criminal',
      doc_title: 'Verificação do Certificado de Registo Criminal — DSI',
      language: 'Língua',
      fields_heading: 'Dados do certificado',
      checks_heading: 'Verificações',
      recheck: 'Verificar de novo',
      another: 'Verificar outro certificado',
      checking: 'A verificar…',
      upload_heading: 'Verificar um certificado em PDF',
      drop_here: 'Arraste para aqui o ficheiro PDF do certificado',
      or: 'ou',
      choose_file: 'Escolher ficheiro',
      upload_hint: 'O ficheiro só é usado para a verificação e não é guardado.',
      about_heading: 'Sobre a verificação',
      about_qr: 'Esta página abre-se ao ler o código QR do certificado com a câmara do telemóvel. O código QR é verificado neste navegador e o seu conteúdo nunca é enviado a nenhum servidor; o navegador descarrega apenas a lista de estados completa (que abrange pelo menos 131 072 certificados).',
      about_pdf: 'Os PDF enviados são verificados pelo serviço de verificação deste organismo (assinatura digital, carimbo temporal, código QR e estado do certificado) e não são guardados.',
      pdf_elsewhere: 'Esta página verifica apenas o código QR do certificado. Os ficheiros PDF são verificados pelo serviço de verificação de cada organismo.',
      pdf_elsewhere_link: 'Ir para o serviço de verificação de PDF',
      footer: 'Governo da Região Administrativa Especial de Macau · Direcção dos Serviços de Identificação',
      source_pdf: 'Ficheiro verificado: {name}',
      source_qr: 'Código QR verificado neste navegador',
      checked_at: 'Verificado em {time}',
      clock_override: ' (hora indicada no endereço da página)',
      verdict: {
        VALID: 'Válido',
        INVALID_SIGNATURE: 'Assinatura inválida',
        MODIFIED: 'Documento alterado',
        UNTRUSTED: 'Origem não fidedigna',
        MISMATCH: 'Dados não coincidem',
        REVOKED: 'Revogado',
        SUPERSEDED: 'Substituído',
        SUSPENDED: 'Suspenso',
        EXPIRED: 'Caducado',
        NOT_YET_VALID: 'Ainda não válido',
        STATUS_UNKNOWN: 'Estado desconhecido',
        MALFORMED: 'Ilegível',
        ERROR: 'Verificação não concluída',
      },
      sentence: {
        VALID: 'Este certificado é autêntico, não foi alterado, está dentro do prazo de validade e não foi revogado.',
        INVALID_SIGNATURE: 'A assinatura digital falta ou está danificada. Não aceite este certificado.',
        MODIFIED: 'O documento foi alterado depois de assinado. Não aceite este certificado.',
        UNTRUSTED: 'A assinatura não provém da Direcção dos Serviços de Identificação. Não aceite este certificado.',
        MISMATCH: 'O código QR e o documento não coincidem. Não aceite este certificado.',
        REVOKED: 'Este certificado foi revogado pela Direcção dos Serviços de Identificação. Não aceite este certificado.',
        SUPERSEDED: 'Este certificado foi substituído por uma nova emissão. Peça o certificado actual.',
        SUSPENDED: 'Este certificado está suspenso. Contacte a Direcção dos Serviços de Identificação.',
        EXPIRED: 'O prazo de validade deste certificado terminou. Peça um certificado novo.',
        NOT_YET_VALID: 'Este certificado ainda não é válido. Verifique a data e a hora do dispositivo.',
        STATUS_UNKNOWN: 'A assinatura é autêntica, mas não foi possível confirmar o estado actual do certificado. Tente mais tarde; até lá não o considere válido.',
        MALFORMED: 'Não foi possível ler o ficheiro ou o código como um certificado.',
        ERROR: 'De momento não foi possível concluir a verificação ({why}). Tente mais tarde.',
      },
      field: {
        number: 'Número do certificado',
        name_latin: 'Nome',
        name_chinese: 'Nome em chinês',
        date_of_birth: 'Data de nascimento',
        document: 'Documento de identificação',
        usage: 'Finalidade',
        record_result: 'Registo criminal',
        transfer_to: 'Serviço destinatário',
        issued_at: 'Emitido em',
        valid_until: 'Válido até',
        days_remaining: 'Dias restantes',
      },
      doc_type: { BIR: 'Bilhete de Identidade de Residente de Macau', TI: 'Título de Identificação de Trabalhador Não-Residente', PASSPORT: 'Passaporte' },
      record_none: 'Nada consta',
      record_some: '{n} registo(s)',
      days: '{n} dia(s)',
      check: {
        file: 'Ficheiro',
        signature_structure: 'Estrutura da assinatura',
        cms_signature: 'Assinatura digital',
        timestamp: 'Carimbo temporal',
        signer_chain: 'Certificado do signatário',
        token: 'Código QR',
        validity: 'Prazo de validade',
        status: 'Estado do certificado',
      },
      outcome: { pass: 'Aprovado', fail: 'Falhou', skip: 'Não verificado' },
      age_fresh: 'Lista de estados assinada há {age}',
      age_asof: 'Estado em {time} (lista assinada há {age})',
      age_none: 'Não foi obtida uma lista de estados válida',
      seconds: '{n} s',
      minutes: '{n} min',
      hours: '{n} h',
      err: {
        busy: 'serviço ocupado',
        network: 'erro de rede',
        server: 'erro do servidor {code}',
        no_crypto: 'este navegador não dispõe das funções criptográficas necessárias (é preciso HTTPS)',
        trust: 'não foi possível obter as chaves de assinatura fidedignas',
      },
      d: {
        token_pass: 'Assinado pela chave de assinatura de códigos QR da DSI ({kid}).',
        token_malformed: 'Não foi possível ler o código QR: {why}',
        token_untrusted: 'A chave que assinou o código QR ({kid}) não está entre as chaves em que este serviço confia.',
        token_key_time: 'A chave de assinatura ({kid}) não era válida quando o código QR foi emitido ({time}).',
        token_badsig: 'A assinatura do código QR não é válida.',
        token_skip: 'O código QR não é autêntico: nada do que contém é mostrado.',
        validity_current: 'Válido até {until} ({days} dia(s) restantes).',
        validity_expired: 'Caducado: válido até {until}.',
        validity_notyet: 'Emitido em {at}, depois da hora da verificação.',
        status_value: '{value}; {fresh}',
        status_fresh: 'lista assinada há {age} (dentro do prazo de cache)',
        status_stale: 'estado em {time} (lista assinada há {age}, fora do prazo de cache)',
        status_unavailable: 'Nenhuma lista de estados utilizável ({why}): estado desconhecido.',
        status_expired: 'A lista de estados caducou em {time}: estado desconhecido.',
        status_other_list: 'A lista de estados obtida é {got}, não {want}.',
        status_index: 'O índice {idx} está fora da lista de estados.',
      },
      status_value: { VALID: 'VÁLIDO', REVOKED: 'REVOGADO', SUSPENDED: 'SUSPENSO', SUPERSEDED: 'SUBSTITUÍDO por nova emissão' },
    },
    en: {
      html_lang: 'en',
      skip: 'Skip to main content',
      bureau: 'Macao SAR Government · Identification Services Bureau',
      title: 'Certificate of Criminal Record verification',
      doc_title: 'Certificate of Criminal Record verification — DSI',
      language: 'Language',
      fields_heading: 'Certificate details',
      checks_heading: 'Checks',
      recheck: 'Check again',
      another: 'Check another certificate',
      checking: 'Checking…',
      upload_heading: 'Check a PDF certificate',
      drop_here: 'Drop the certificate PDF here',
      or: 'or',
      choose_file: 'Choose a file',
      upload_hint: 'The file is used only for the check and is not stored.',
      about_heading: 'About verification',
      about_qr: 'Scanning the QR code on a certificate with a phone camera opens this page. The QR code is verified in this browser and its contents are never sent to any server; the browser only downloads the whole status list (which covers at least 131,072 certificates).',
      about_pdf: 'Uploaded PDFs are checked by this department\'s verification service (digital signature, time stamp, QR code and certificate status) and are not stored.',
      pdf_elsewhere: 'This page checks the QR code on a certificate only. PDF files are checked by each department\'s verification service.',
      pdf_elsewhere_link: 'Go to the PDF verification service',
      footer: 'Government of the Macao Special Administrative Region · Identification Services Bureau',
      source_pdf: 'File checked: {name}',
      source_qr: 'QR code verified in this browser',
      checked_at: 'Checked at {time}',
      clock_override: ' (clock set by the page address)',
      verdict: {
        VALID: 'Valid',
        INVALID_SIGNATURE: 'Invalid signature',
        MODIFIED: 'Document modified',
        UNTRUSTED: 'Untrusted origin',
        MISMATCH: 'Details do not match',
        REVOKED: 'Revoked',
        SUPERSEDED: 'Superseded',
        SUSPENDED: 'Suspended',
        EXPIRED: 'Expired',
        NOT_YET_VALID: 'Not yet valid',
        STATUS_UNKNOWN: 'Status unknown',
        MALFORMED: 'Unreadable',
        ERROR: 'Check not completed',
      },
      sentence: {
        VALID: 'This certificate is genuine, unaltered, current and has not been revoked.',
        INVALID_SIGNATURE: 'The digital signature is missing or broken. Do not accept this certificate.',
        MODIFIED: 'The document was changed after it was signed. Do not accept this certificate.',
        UNTRUSTED: 'The signature is not from the Identification Services Bureau. Do not accept this certificate.',
        MISMATCH: 'The QR code and the document disagree. Do not accept this certificate.',
        REVOKED: 'This certificate has been revoked by the Identification Services Bureau. Do not accept this certificate.',
        SUPERSEDED: 'This certificate has been replaced by a re-issued one. Ask for the current certificate.',
        SUSPENDED: 'This certificate is suspended. Contact the Identification Services Bureau.',
        EXPIRED: 'This certificate\'s validity period has ended. Ask for a new certificate.',
        NOT_YET_VALID: 'This certificate is not valid yet. Check the date and time of this device.',
        STATUS_UNKNOWN: 'The signature is genuine, but the certificate\'s current status could not be confirmed. Try again later; until then do not treat it as valid.',
        MALFORMED: 'The file or code could not be read as a certificate.',
        ERROR: 'The check could not be completed just now ({why}). Please try again later.',
      },
      field: {
        number: 'Certificate number',
        name_latin: 'Name',
        name_chinese: 'Name in Chinese',
        date_of_birth: 'Date of birth',
        document: 'Identity document',
        usage: 'Purpose',
        record_result: 'Criminal record',
        transfer_to: 'Receiving department',
        issued_at: 'Issued at',
        valid_until: 'Valid until',
        days_remaining: 'Days remaining',
      },
      doc_type: { BIR: 'Macao Resident Identity Card', TI: 'Non-resident Worker\'s Identification Card', PASSPORT: 'Passport' },
      record_none: 'Nothing on record',
      record_some: '{n} entry(ies) on record',
      days: '{n} day(s)',
      check: {
        file: 'File',
        signature_structure: 'Signature structure',
        cms_signature: 'Digital signature',
        timestamp: 'Time stamp',
        signer_chain: 'Signer\'s certificate',
        token: 'QR code',
        validity: 'Validity period',
        status: 'Certificate status',
      },
      outcome: { pass: 'Passed', fail: 'Failed', skip: 'Not checked' },
      age_fresh: 'Status list signed {age} ago',
      age_asof: 'Status as of {time} (list signed {age} ago)',
      age_none: 'No usable status list was obtained',
      seconds: '{n} s',
      minutes: '{n} min',
      hours: '{n} h',
      err: {
        busy: 'the service is busy',
        network: 'network error',
        server: 'server error {code}',
        no_crypto: 'this browser lacks the cryptography needed (HTTPS is required)',
        trust: 'the trusted signing keys could not be obtained',
      },
      d: {
        token_pass: 'Signed by the bureau\'s QR token signing key ({kid}).',
        token_malformed: 'The QR code could not be read: {why}',
        token_untrusted: 'The key that signed the QR code ({kid}) is not one this verifier trusts.',
        token_key_time: 'The signing key ({kid}) was not valid when the QR code was issued ({time}).',
        token_badsig: 'The QR code\'s signature does not verify.',
        token_skip: 'The QR code is not authentic: nothing it says is shown.',
        validity_current: 'Current until {until} ({days} day(s) left).',
        validity_expired: 'Expired: valid until {until}.',
        validity_notyet: 'Issued at {at}, after the time checked.',
        status_value: '{value}; {fresh}',
        status_fresh: 'list signed {age} ago (within its ttl)',
        status_stale: 'status as of {time} (list signed {age} ago, past its ttl)',
        status_unavailable: 'No usable status list ({why}): the status is unknown.',
        status_expired: 'The status list expired at {time}: the status is unknown.',
        status_other_list: 'The status list obtained is {got}, not {want}.',
        status_index: 'Index {idx} is outside the status list.',
      },
      status_value: { VALID: 'VALID', REVOKED: 'REVOKED', SUSPENDED: 'SUSPENDED', SUPERSEDED: 'SUPERSEDED by a re-issue' },
    },
  };

  const LANGS = ['zh', 'pt', 'en'];

  // Verdicts in SPEC §5 precedence (first wins).
  const PRECEDENCE = [
    'MALFORMED', 'INVALID_SIGNATURE', 'MODIFIED', 'UNTRUSTED', 'MISMATCH', 'REVOKED',
    'SUPERSEDED', 'SUSPENDED', 'EXPIRED', 'NOT_YET_VALID', 'STATUS_UNKNOWN', 'VALID',
  ];
  const SEVERITY = {
    VALID: 'ok',
    INVALID_SIGNATURE: 'bad', MODIFIED: 'bad', UNTRUSTED: 'bad', MISMATCH: 'bad',
    REVOKED: 'bad', MALFORMED: 'bad',
    SUSPENDED: 'warn', EXPIRED: 'warn', NOT_YET_VALID: 'warn', STATUS_UNKNOWN: 'warn',
    SUPERSEDED: 'warn',
    ERROR: 'warn',
  };
  const STATUS_NAMES = ['VALID', 'REVOKED', 'SUSPENDED', 'SUPERSEDED'];
  const STATUS_VERDICT = { REVOKED: 'REVOKED', SUSPENDED: 'SUSPENDED', SUPERSEDED: 'SUPERSEDED' };

  // Limits (pki/src/token.rs, pki/src/cose.rs, verifier/src/status.rs).
  const MAX_TOKEN_LEN = 2048;
  const MAX_TOKEN_TEXT_LEN = 4096;
  const MAX_CBOR_DEPTH = 16;
  const MAX_MAP_ENTRIES = 64;
  const MAX_STATUS_ENTRIES = 1 << 24;
  const MAX_STATUS_LIST_LEN = MAX_STATUS_ENTRIES / 4 + 64 * 1024;
  const KID_LEN = 8;
  const TAG_COSE_SIGN1 = 18;
  const ALG_ES256 = -7;
  const STATUS_LIST_TYP = 'application/statuslist+cwt';
  // Document types by their number in the token (pki/src/token.rs DOCUMENT_TYPES).
  const DOCUMENT_TYPES = ['BIR', 'TI', 'PASSPORT'];

  // -----------------------------------------------------------------------------------------
  // Language

  let lang = pickLanguage();

  function pickLanguage() {
    const wanted = [];
    const q = new URLSearchParams(location.search).get('lang');
    if (q) wanted.push(q);
    for (const l of navigator.languages || [navigator.language || '']) wanted.push(l);
    for (const l of wanted) {
      const base = String(l).toLowerCase().split('-')[0];
      if (LANGS.includes(base)) return base;
    }
    return 'en';
  }

  function lookup(key, l) {
    let v = STRINGS[l];
    for (const part of key.split('.')) {
      if (v == null) return undefined;
      v = v[part];
    }
    return v;
  }

  /** The string `key` in the current language, `{name}` replaced from `params`. */
  function t(key, params) {
    let s = lookup(key, lang);
    if (typeof s !== 'string') s = lookup(key, 'en');
    if (typeof s !== 'string') return key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, (m, name) => {
        const v = params[name];
        if (v == null) return m;
        return typeof v === 'object' && v.key ? t(v.key, v.params) : String(v);
      });
    }
    return s;
  }

  // -----------------------------------------------------------------------------------------
  // Small helpers

  /** A verification that stopped with a verdict; `detail` is text or {key, params}. */
  class Failure extends Error {
    constructor(verdict, detail) {
      super(typeof detail === 'string' ? detail : verdict);
      this.verdict = verdict;
      this.detail = detail;
    }
  }

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c == null) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function bytesEqual(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // SPEC §4 decimal fragment (pki/src/token/decimal.rs): groups of 7 bytes as 17 digits, a last
  // group of n = 1..6 bytes as DECIMAL_WIDTHS[n] digits.
  const DECIMAL_WIDTHS = [0, 3, 5, 8, 10, 13, 15, 17];

  /** The bytes of a decimal fragment; refuses a bad length, a non-digit, a too-large group. */
  function decimalDecode(text) {
    if (text.length === 0) throw new Error('decimal token: empty');
    const bad = text.search(/[^0-9]/);
    if (bad >= 0) throw new Error(`decimal token: character ${bad + 1} is not a digit`);
    const full = Math.floor(text.length / 17);
    const rest = text.length % 17;
    const lastBytes = DECIMAL_WIDTHS.indexOf(rest);
    if (lastBytes < 0 || lastBytes === 7) {
      throw new Error(`decimal token: length ${text.length} is not a valid token length (remainder ${rest} mod 17)`);
    }
    const len = full * 7 + lastBytes;
    if (len > MAX_TOKEN_LEN) throw new Error(`decimal token: ${len} bytes exceed ${MAX_TOKEN_LEN}`);
    const out = new Uint8Array(len);
    let pos = 0;
    let j = 0;
    for (let g = 0; j < len; g++) {
      const n = Math.min(7, len - j);
      const width = DECIMAL_WIDTHS[n];
      let value = BigInt(text.slice(pos, pos + width));
      pos += width;
      if (value >> BigInt(8 * n) !== 0n) {
        throw new Error(`decimal token: group ${g + 1} is too large for ${n} bytes`);
      }
      for (let k = n - 1; k >= 0; k--) {
        out[j + k] = Number(value & 0xffn);
        value >>= 8n;
      }
      j += n;
    }
    return out;
  }

  /** A token fragment: decimal digits (SPEC §4) or the older base64url. */
  function fragmentDecode(text) {
    return /^[0-9]+$/.test(text) ? decimalDecode(text) : base64UrlDecode(text);
  }

  /** base64url (RFC 4648 §5), padding optional; anything else is refused. */
  function base64UrlDecode(text) {
    const s = text.replace(/=+$/, '');
    if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
    if (s.length % 4 === 1) throw new Error('not base64url (bad length)');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const out = new Uint8Array(Math.floor((s.length * 3) / 4));
    let acc = 0;
    let bits = 0;
    let j = 0;
    for (let i = 0; i < s.length; i++) {
      acc = (acc << 6) | alphabet.indexOf(s[i]);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (acc >> bits) & 0xff;
      }
    }
    // Leftover bits must be zero (canonical encoding).
    if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) throw new Error('not base64url (trailing bits)');
    return out.subarray(0, j);
  }

  // -----------------------------------------------------------------------------------------
  // Time (Macao: UTC+8, no daylight saving)

  const MACAO_OFFSET = 8 * 3600;

  /** `?now=` of the page address, or null. */
  function clockOverride() {
    const q = new URLSearchParams(location.search).get('now');
    return q != null && /^\d{1,12}$/.test(q) ? Number(q) : null;
  }

  /** The clock the QR path judges at, in unix seconds: `?now=` if given, else the device's. */
  function clockSeconds() {
    const o = clockOverride();
    return o != null ? o : Math.floor(Date.now() / 1000);
  }

  function pad(n) {
    return String(n).padStart(2, '0');
  }

  /** `YYYY-MM-DD HH:MM:SS (UTC+8)` of unix seconds, in Macao time. */
  function macaoTime(secs) {
    const d = new Date((secs + MACAO_OFFSET) * 1000);
    if (Number.isNaN(d.getTime())) return String(secs);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} `
      + `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} (UTC+8)`;
  }

  /** Macao calendar day number (days since the epoch) of unix seconds. */
  function macaoDay(secs) {
    return Math.floor((secs + MACAO_OFFSET) / 86400);
  }

  function rfc3339(secs) {
    return new Date(secs * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** Unix seconds of an RFC 3339 string (or a number), or NaN. */
  function toSeconds(v) {
    if (typeof v === 'number') return v;
    if (typeof v !== 'string') return NaN;
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? NaN : Math.floor(ms / 1000);
  }

  /** A duration as a translatable {key, params} (rendered in the language shown). */
  function duration(secs) {
    const s = Math.max(0, Math.round(secs));
    if (s < 120) return { key: 'seconds', params: { n: s } };
    if (s < 7200) return { key: 'minutes', params: { n: Math.floor(s / 60) } };
    return { key: 'hours', params: { n: Math.floor(s / 3600) } };
  }

  // -----------------------------------------------------------------------------------------
  // CBOR (RFC 8949): a bounded decoder for what COSE and CWT need, and the one encoding needed
  // to rebuild a Sig_structure. Definite lengths only; maps are JS Maps keyed by numbers or
  // strings with duplicates refused; byte strings are Uint8Arrays; integers beyond 2^53 are
  // BigInts; tags are {tag, value}.

  class Tagged {
    constructor(tag, value) {
      this.tag = tag;
      this.value = value;
    }
  }

  const UTF8 = new TextDecoder('utf-8', { fatal: true });
  const UTF8_ENCODER = new TextEncoder();

  function cborDecode(bytes, what, maxLen) {
    if (bytes.length > maxLen) {
      throw new Error(`${what}: ${bytes.length} bytes exceed the limit of ${maxLen}`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = 0;

    const fail = (msg) => {
      throw new Error(`${what}: not well-formed CBOR: ${msg}`);
    };
    const need = (n) => {
      if (n > bytes.length - pos) fail('truncated');
    };

    function argument(info) {
      if (info < 24) return info;
      switch (info) {
        case 24: need(1); return view.getUint8(pos++);
        case 25: { need(2); const v = view.getUint16(pos); pos += 2; return v; }
        case 26: { need(4); const v = view.getUint32(pos); pos += 4; return v; }
        case 27: {
          need(8);
          const v = view.getBigUint64(pos);
          pos += 8;
          return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
        }
        case 31: return fail('indefinite lengths are not accepted');
        default: return fail('reserved additional information');
      }
    }

    function length(info) {
      const n = argument(info);
      if (typeof n !== 'number') fail('length out of range');
      return n;
    }

    function item(depth) {
      if (depth > MAX_CBOR_DEPTH) fail(`nested deeper than ${MAX_CBOR_DEPTH}`);
      need(1);
      const initial = view.getUint8(pos++);
      const major = initial >> 5;
      const info = initial & 0x1f;
      switch (major) {
        case 0: return argument(info);
        case 1: {
          const n = argument(info);
          return typeof n === 'number' ? -1 - n : -1n - n;
        }
        case 2: {
          const n = length(info);
          need(n);
          const b = bytes.slice(pos, pos + n);
          pos += n;
          return b;
        }
        case 3: {
          const n = length(info);
          need(n);
          let s;
          try {
            s = UTF8.decode(bytes.subarray(pos, pos + n));
          } catch (e) {
            fail('text string is not UTF-8');
          }
          pos += n;
          return s;
        }
        case 4: {
          const n = length(info);
          need(n); // every item takes at least one byte
          const a = [];
          for (let i = 0; i < n; i++) a.push(item(depth + 1));
          return a;
        }
        case 5: {
          const n = length(info);
          need(n * 2);
          if (n > MAX_MAP_ENTRIES) fail(`map of more than ${MAX_MAP_ENTRIES} entries`);
          const m = new Map();
          for (let i = 0; i < n; i++) {
            const k = item(depth + 1);
            if (typeof k !== 'number' && typeof k !== 'string' && typeof k !== 'bigint') {
              fail('map key is neither an integer nor a text string');
            }
            if (m.has(k)) fail('duplicate map key');
            m.set(k, item(depth + 1));
          }
          return m;
        }
        case 6: {
          const tag = argument(info);
          return new Tagged(tag, item(depth + 1));
        }
        default: {
          // major 7: simple values and floats
          switch (info) {
            case 20: return false;
            case 21: return true;
            case 22: return null;
            case 23: return undefined;
            case 25: { need(2); const v = halfToFloat(view.getUint16(pos)); pos += 2; return v; }
            case 26: { need(4); const v = view.getFloat32(pos); pos += 4; return v; }
            case 27: { need(8); const v = view.getFloat64(pos); pos += 8; return v; }
            default: return fail('unsupported simple value');
          }
        }
      }
    }

    const value = item(0);
    if (pos !== bytes.length) {
      throw new Error(`${what}: ${bytes.length - pos} bytes after the CBOR item`);
    }
    return value;
  }

  function halfToFloat(h) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
    if (exp === 31) return frac ? NaN : sign * Infinity;
    return sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }

  /** A CBOR head (major type, unsigned argument < 2^32) in preferred serialisation. */
  function cborHead(major, n) {
    const m = major << 5;
    if (n < 24) return [m | n];
    if (n < 0x100) return [m | 24, n];
    if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
    return [m | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  }

  /** `Sig_structure = ["Signature1", body_protected, external_aad = h'', payload]` (RFC 9052 §4.4). */
  function sigStructure(protectedBytes, payload) {
    const context = UTF8_ENCODER.encode('Signature1');
    const parts = [
      cborHead(4, 4),
      cborHead(3, context.length), context,
      cborHead(2, protectedBytes.length), protectedBytes,
      cborHead(2, 0),
      cborHead(2, payload.length), payload,
    ];
    const total = parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  // -----------------------------------------------------------------------------------------
  // COSE_Sign1 (RFC 9052), as pki/src/cose.rs parses it

  function isMap(v) {
    return v instanceof Map;
  }

  function isBytes(v) {
    return v instanceof Uint8Array;
  }

  /** Parses a COSE_Sign1 strictly; returns {protected, unprotected, kid, payload, tbs, signature}. */
  function parseSign1(bytes, maxLen, what) {
    let value = cborDecode(bytes, what, maxLen);
    if (value instanceof Tagged) {
      if (value.tag !== TAG_COSE_SIGN1) {
        throw new Error(`${what}: CBOR tag ${value.tag}, expected ${TAG_COSE_SIGN1} (COSE_Sign1)`);
      }
      value = value.value;
    }
    if (!Array.isArray(value) || value.length !== 4) {
      throw new Error(`${what}: not a COSE_Sign1 (an array of 4)`);
    }
    const [protectedBytes, unprotected, payload, signature] = value;
    if (!isBytes(protectedBytes)) throw new Error(`${what}: protected header is not a byte string`);
    if (!isMap(unprotected)) throw new Error(`${what}: unprotected header is not a map`);
    if (payload === null) throw new Error(`${what}: detached payload`);
    if (!isBytes(payload)) throw new Error(`${what}: payload is not a byte string`);
    if (!isBytes(signature)) throw new Error(`${what}: signature is not a byte string`);
    const prot = protectedBytes.length === 0
      ? new Map()
      : cborDecode(protectedBytes, `${what} protected header`, protectedBytes.length);
    if (!isMap(prot)) throw new Error(`${what}: protected header is not a map`);
    if (prot.get(1) !== ALG_ES256) throw new Error(`${what}: protected header alg is not ES256`);
    if (unprotected.has(1)) throw new Error(`${what}: alg must not be in the unprotected header`);
    if (prot.has(2) || unprotected.has(2)) {
      throw new Error(`${what}: critical header parameters are not supported`);
    }
    const pk = prot.get(4);
    const uk = unprotected.get(4);
    let kid;
    if (pk !== undefined && uk !== undefined) throw new Error(`${what}: kid in both headers`);
    else if (pk !== undefined) kid = pk;
    else if (uk !== undefined) kid = uk;
    else throw new Error(`${what}: no kid`);
    if (!isBytes(kid)) throw new Error(`${what}: kid is not a byte string`);
    if (kid.length !== KID_LEN) {
      throw new Error(`${what}: kid is ${kid.length} bytes, expected ${KID_LEN}`);
    }
    if (signature.length !== 64) {
      throw new Error(`${what}: signature is ${signature.length} bytes, expected 64`);
    }
    return {
      protected: prot,
      unprotected,
      kid: hex(kid),
      payload,
      tbs: sigStructure(protectedBytes, payload),
      signature,
    };
  }

  // Typed claim readers (pki/src/cose.rs).
  function req(map, key, name, what) {
    if (!map.has(key)) throw new Error(`${what}: missing ${name} (${key})`);
    return map.get(key);
  }
  function text(v, name) {
    if (typeof v !== 'string') throw new Error(`${name}: not a text string`);
    return v;
  }
  function nonemptyText(v, name) {
    if (text(v, name) === '') throw new Error(`${name}: empty`);
    return v;
  }
  function uint(v, name, max) {
    if (typeof v === 'bigint') throw new Error(`${name}: ${v} out of range`);
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${name}: not an integer`);
    if (v < 0) throw new Error(`${name}: negative`);
    if (v > max) throw new Error(`${name}: ${v} out of range`);
    return v;
  }
  function numericDate(v, name) {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new Error(`${name}: not an integer NumericDate`);
    }
    // time's OffsetDateTime range: years -9999..=9999.
    if (v < -377705116800 || v > 253402300799) throw new Error(`${name}: out of range`);
    return v;
  }
  function asMap(v, what) {
    if (!isMap(v)) throw new Error(`${what}: not a map`);
    return v;
  }

  /** Token claims (pki/src/token.rs `TokenClaims::from_cbor`). */
  function tokenClaims(payload) {
    const claims = asMap(cborDecode(payload, 'token claims', MAX_TOKEN_LEN), 'token claims');
    const W = 'token claims';
    const number = nonemptyText(req(claims, 2, 'sub', W), 'sub');
    const exp = numericDate(req(claims, 4, 'exp', W), 'exp');
    const iat = numericDate(req(claims, 6, 'iat', W), 'iat');
    const status = asMap(req(claims, 65535, 'status', W), 'status');
    if (!status.has('status_list')) throw new Error('status: missing "status_list"');
    const list = asMap(status.get('status_list'), 'status_list');
    if (!list.has('idx')) throw new Error('status_list: missing "idx"');
    if (!list.has('uri')) throw new Error('status_list: missing "uri"');
    const idx = uint(list.get('idx'), 'status_list.idx', 0xffffffff);
    const uri = nonemptyText(list.get('uri'), 'status_list.uri');

    const cert = asMap(req(claims, -65537, 'certificate', W), 'certificate claim');
    const C = 'certificate claim';
    const nameLatin = nonemptyText(req(cert, 1, 'name', C), 'name');
    const nameChinese = cert.has(2) ? nonemptyText(cert.get(2), 'Chinese name') : null;
    // RFC 8943 day count since 1970-01-01; years 1..9999 as the issuer allows.
    const days = req(cert, 3, 'date of birth', C);
    if (typeof days !== 'number' || !Number.isInteger(days)) throw new Error('date of birth: not an integer day count');
    const born = new Date(days * 86400000);
    const year = born.getUTCFullYear();
    if (Number.isNaN(year) || year < 1 || year > 9999) throw new Error(`date of birth: day count ${days} out of range`);
    const dob = born.toISOString().slice(0, 10);
    const doc = req(cert, 4, 'document', C);
    if (!Array.isArray(doc) || doc.length !== 2) throw new Error('document: not a [type, last3] array');
    const docType = DOCUMENT_TYPES[uint(doc[0], 'document type', 0xff)];
    if (docType === undefined) throw new Error(`document type: unknown number ${doc[0]}`);
    const last3 = text(doc[1], 'document number');
    if ([...last3].length > 3) throw new Error('document number: more than 3 characters');
    const usage = nonemptyText(req(cert, 5, 'usage', C), 'usage');
    const recordResult = uint(req(cert, 6, 'record result', C), 'record result', 0xffffffff);
    const transferTo = cert.has(7) ? nonemptyText(cert.get(7), 'receiving department') : null;
    const digest = req(cert, 8, 'digest', C);
    if (!isBytes(digest)) throw new Error('digest: not a byte string');
    if (digest.length !== 16) throw new Error('digest: not 16 bytes');
    return {
      number,
      name_latin: nameLatin,
      name_chinese: nameChinese,
      date_of_birth: dob,
      document: { type: docType, last3 },
      usage,
      record_result: recordResult,
      transfer_to: transferTo,
      issued_at: iat,
      expires_at: exp,
      status: { uri, idx },
      digest: hex(digest),
    };
  }

  /** Status list claims (pki/src/status_list.rs `parse_status_list`), before inflation. */
  function statusListClaims(sign1) {
    const typ = sign1.protected.get(16);
    if (typ !== STATUS_LIST_TYP) {
      throw new Error(`status list: protected typ is not ${STATUS_LIST_TYP}`);
    }
    const claims = asMap(
      cborDecode(sign1.payload, 'status list claims', MAX_STATUS_LIST_LEN),
      'status list claims',
    );
    const W = 'status list claims';
    const uri = nonemptyText(req(claims, 2, 'sub', W), 'sub');
    const iat = numericDate(req(claims, 6, 'iat', W), 'iat');
    const exp = numericDate(req(claims, 4, 'exp', W), 'exp');
    const ttl = uint(req(claims, 65534, 'ttl', W), 'ttl', Number.MAX_SAFE_INTEGER);
    if (exp < iat) throw new Error('status list: exp is before iat');
    const list = asMap(req(claims, 65533, 'status_list', W), 'status_list');
    if (!list.has('bits')) throw new Error('status_list: missing "bits"');
    if (!list.has('lst')) throw new Error('status_list: missing "lst"');
    const bits = uint(list.get('bits'), 'status_list.bits', 255);
    if (bits !== 2) throw new Error(`status list: ${bits} bits per entry, expected 2`);
    const lst = list.get('lst');
    if (!isBytes(lst)) throw new Error('status_list.lst: not a byte string');
    return { uri, iat, exp, ttl, lst };
  }

  // -----------------------------------------------------------------------------------------
  // WebCrypto

  function cryptoAvailable() {
    return !!(globalThis.crypto && crypto.subtle && window.isSecureContext);
  }

  const keyCache = new Map(); // kid -> CryptoKey

  async function importSigner(signer) {
    const cached = keyCache.get(signer.kid);
    if (cached) return cached;
    const jwk = signer.jwk || {};
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
      throw new Error('the signer key is not an EC P-256 JWK');
    }
    const key = await crypto.subtle.importKey(
      'jwk',
      { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, ext: true },
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    keyCache.set(signer.kid, key);
    return key;
  }

  async function es256Verify(key, sign1) {
    return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sign1.signature, sign1.tbs);
  }

  /** Whether unix second `at` is within the signer's validity (bounds optional). */
  function signerValidAt(signer, at) {
    const nb = toSeconds(signer.not_before);
    const na = toSeconds(signer.not_after);
    if (signer.not_before != null && !(at >= nb)) return false;
    if (signer.not_after != null && !(at <= na)) return false;
    return true;
  }

  // -----------------------------------------------------------------------------------------
  // Network: the trust endpoint (same origin) and the issuer's status list. Neither request
  // carries the token: the trust URL is fixed, and the status list is fetched whole by its URI.

  async function fetchTrust() {
    const res = await fetch('/api/v1/trust', {
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`GET /api/v1/trust: HTTP ${res.status}`);
    const trust = await res.json();
    if (!trust || !Array.isArray(trust.token_signers)) throw new Error('GET /api/v1/trust: no token_signers');
    learnUsages(trust);
    return trust;
  }

  // The usages' names by code, from the trust answer (the issuer's configuration): the token
  // carries only the code. Display only; a code without a name is shown as it is.
  const usageNames = new Map(); // code -> {zh, pt, en}

  function learnUsages(trust) {
    if (!Array.isArray(trust.usages)) return;
    for (const u of trust.usages) {
      if (u && typeof u.code === 'string') {
        const names = {};
        for (const l of LANGS) if (typeof u[l] === 'string' && u[l] !== '') names[l] = u[l];
        usageNames.set(u.code, names);
      }
    }
  }

  /** The names for a report's usage, for the PDF path (the QR path fetched them already). */
  async function loadUsageNames() {
    if (usageNames.size > 0) return;
    try {
      await fetchTrust();
    } catch (e) {
      // No names: the code is shown.
    }
  }

  function usageName(code) {
    const names = usageNames.get(code);
    return (names && (names[lang] || names.en)) || code;
  }

  const listCache = new Map(); // uri -> {list, fetchedAt}
  let newestIat = -Infinity; // the trusted now is never earlier than a list already seen

  async function readLimited(res, limit) {
    const declared = Number(res.headers.get('content-length'));
    if (declared > limit) throw new Error(`the status list is larger than ${limit} bytes`);
    if (!res.body) {
      const b = new Uint8Array(await res.arrayBuffer());
      if (b.length > limit) throw new Error(`the status list is larger than ${limit} bytes`);
      return b;
    }
    const reader = res.body.getReader();
    const chunks = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        reader.cancel().catch(() => {});
        throw new Error(`the status list is larger than ${limit} bytes`);
      }
      chunks.push(value);
    }
    return concat(chunks, total);
  }

  function concat(chunks, total) {
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  /** zlib (RFC 1950) inflation with an output bound; truncation and trailing bytes refused. */
  async function inflate(bytes, limit) {
    const ds = new DecompressionStream('deflate');
    const writer = ds.writable.getWriter();
    const written = writer.write(bytes).then(() => writer.close()).catch(() => {});
    const reader = ds.readable.getReader();
    const chunks = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > limit) throw new Error(`status list: more than ${limit * 4} entries`);
        chunks.push(value);
      }
    } catch (e) {
      reader.cancel().catch(() => {});
      writer.abort().catch(() => {});
      if (e instanceof Error && e.message.startsWith('status list:')) throw e;
      throw new Error('status list: bad zlib data');
    }
    await written;
    if (total === 0) throw new Error('status list: empty');
    return concat(chunks, total);
  }

  /** Fetches, authenticates and inflates the status list at `uri`, cached for its ttl. */
  async function statusList(uri, trust, now) {
    const cached = listCache.get(uri);
    if (cached && now >= cached.fetchedAt && now - cached.fetchedAt < cached.list.ttl) {
      return cached.list;
    }
    listCache.delete(uri);
    let url;
    try {
      url = new URL(uri);
    } catch (e) {
      throw new Error('the status list URI is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error('the status list URI is not http(s)');
    }
    // The page may only reach the issuer this verifier is configured with (its CSP says so
    // too); say so plainly rather than let the browser refuse the request.
    if (typeof trust.issuer === 'string' && trust.issuer !== '') {
      let issuer = null;
      try {
        issuer = new URL(trust.issuer).origin;
      } catch (e) {
        issuer = null;
      }
      if (issuer && url.origin !== issuer) {
        throw new Error(`${url.href} is not at the issuer this verifier trusts (${issuer})`);
      }
    }
    let res;
    try {
      res = await fetch(url.href, {
        cache: 'no-cache', // revalidate: never a copy older than the issuer's current one
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        mode: 'cors',
      });
    } catch (e) {
      throw new Error(`cannot fetch ${url.href}`);
    }
    if (!res.ok) throw new Error(`GET ${url.href}: HTTP ${res.status}`);
    const bytes = await readLimited(res, MAX_STATUS_LIST_LEN);
    const sign1 = parseSign1(bytes, MAX_STATUS_LIST_LEN, 'status list');
    const claims = statusListClaims(sign1);
    const signer = trust.token_signers.find((s) => String(s.kid).toLowerCase() === sign1.kid);
    if (!signer) throw new Error(`the status list signer ${sign1.kid} is not trusted`);
    const key = await importSigner(signer);
    if (!(await es256Verify(key, sign1))) throw new Error('the status list signature is invalid');
    if (!signerValidAt(signer, claims.iat)) {
      throw new Error('the status list signer was not valid when the list was signed');
    }
    const entries = await inflate(claims.lst, MAX_STATUS_ENTRIES / 4);
    const list = {
      uri: claims.uri, iat: claims.iat, exp: claims.exp, ttl: claims.ttl, bytes: entries,
    };
    newestIat = Math.max(newestIat, list.iat);
    listCache.set(uri, { list, fetchedAt: Math.max(now, list.iat) });
    return list;
  }

  // -----------------------------------------------------------------------------------------
  // The QR token, verified here

  class Checks {
    constructor() {
      this.list = [];
    }
    pass(name, key, params) {
      this.list.push({ name, outcome: 'pass', detail: { key, params }, verdict: 'VALID' });
    }
    fail(name, verdict, key, params) {
      this.list.push({ name, outcome: 'fail', detail: { key, params }, verdict });
    }
    skip(names, key) {
      for (const name of names) this.list.push({ name, outcome: 'skip', detail: { key }, verdict: 'VALID' });
    }
    verdict() {
      let best = PRECEDENCE.length - 1;
      for (const c of this.list) {
        if (c.outcome === 'fail') best = Math.min(best, PRECEDENCE.indexOf(c.verdict));
      }
      return PRECEDENCE[best];
    }
  }

  async function verifyToken(fragment) {
    const checks = new Checks();
    const report = { verdict: 'MALFORMED', checks: [], certificate: null, status: null, checked_at: null };
    let claims;
    let trust;
    try {
      if (fragment.length > MAX_TOKEN_TEXT_LEN) throw new Failure('MALFORMED', `more than ${MAX_TOKEN_TEXT_LEN} characters`);
      let bytes;
      try {
        bytes = fragmentDecode(fragment.trim());
      } catch (e) {
        throw new Failure('MALFORMED', e.message);
      }
      if (bytes.length === 0) throw new Failure('MALFORMED', 'no token');
      if (bytes.length > MAX_TOKEN_LEN) throw new Failure('MALFORMED', `token of ${bytes.length} bytes exceeds ${MAX_TOKEN_LEN}`);
      let sign1;
      let unverified;
      try {
        sign1 = parseSign1(bytes, MAX_TOKEN_LEN, 'token');
        unverified = tokenClaims(sign1.payload);
      } catch (e) {
        throw new Failure('MALFORMED', e.message);
      }
      try {
        trust = await fetchTrust();
      } catch (e) {
        throw new Failure('ERROR', t('err.trust'));
      }
      const signer = trust.token_signers.find((s) => String(s.kid).toLowerCase() === sign1.kid);
      if (!signer) throw new Failure('UNTRUSTED', { key: 'd.token_untrusted', params: { kid: sign1.kid } });
      let ok;
      try {
        ok = await es256Verify(await importSigner(signer), sign1);
      } catch (e) {
        ok = false;
      }
      if (!ok) throw new Failure('INVALID_SIGNATURE', { key: 'd.token_badsig' });
      // Signature first, so the instant the signer is judged at (iat) is authenticated.
      if (!signerValidAt(signer, unverified.issued_at)) {
        throw new Failure('UNTRUSTED', {
          key: 'd.token_key_time', params: { kid: sign1.kid, time: macaoTime(unverified.issued_at) },
        });
      }
      claims = unverified;
      checks.pass('token', 'd.token_pass', { kid: sign1.kid });
    } catch (e) {
      if (e instanceof Failure && e.verdict === 'ERROR') throw e;
      const verdict = e instanceof Failure ? e.verdict : 'MALFORMED';
      if (e instanceof Failure && e.detail && typeof e.detail === 'object') {
        checks.fail('token', verdict, e.detail.key, e.detail.params);
      } else {
        checks.fail('token', verdict, 'd.token_malformed', { why: e.message });
      }
      checks.skip(['validity', 'status'], 'd.token_skip');
      report.verdict = checks.verdict();
      report.checks = checks.list;
      report.checked_at = rfc3339(clockSeconds());
      return report;
    }

    // Status first (it may move the trusted clock forward), then currency with that clock.
    const clock = clockSeconds();
    let list = null;
    let unavailable = null;
    try {
      list = await statusList(claims.status.uri, trust, Math.max(clock, newestIat));
    } catch (e) {
      unavailable = e.message || String(e);
    }
    const now = Math.max(clock, newestIat);
    const days = macaoDay(claims.expires_at) - macaoDay(now);
    if (now < claims.issued_at) {
      checks.fail('validity', 'NOT_YET_VALID', 'd.validity_notyet', { at: macaoTime(claims.issued_at) });
    } else if (now > claims.expires_at) {
      checks.fail('validity', 'EXPIRED', 'd.validity_expired', { until: macaoTime(claims.expires_at) });
    } else {
      checks.pass('validity', 'd.validity_current', { until: macaoTime(claims.expires_at), days });
    }
    report.certificate = {
      number: claims.number,
      name_latin: claims.name_latin,
      name_chinese: claims.name_chinese,
      date_of_birth: claims.date_of_birth,
      document: claims.document,
      usage: claims.usage,
      record_result: claims.record_result,
      transfer_to: claims.transfer_to,
      issued_at: rfc3339(claims.issued_at),
      valid_until: rfc3339(claims.expires_at),
      days_remaining: days,
    };
    report.status = judgeStatus(list, unavailable, claims.status, now, checks);
    report.verdict = checks.verdict();
    report.checks = checks.list;
    report.checked_at = rfc3339(now);
    return report;
  }

  /** SPEC §5 freshness and the 2-bit entry (verifier/src/status.rs `judge`). */
  function judgeStatus(list, unavailable, ref, now, checks) {
    const facts = {
      list: ref.uri,
      index: ref.idx,
      value: null,
      list_issued_at: null,
      list_expires_at: null,
      age_seconds: null,
      authoritative: false,
    };
    if (!list) {
      checks.fail('status', 'STATUS_UNKNOWN', 'd.status_unavailable', { why: unavailable });
      return facts;
    }
    facts.list_issued_at = rfc3339(list.iat);
    facts.list_expires_at = rfc3339(list.exp);
    facts.age_seconds = now - list.iat;
    if (list.uri !== ref.uri) {
      checks.fail('status', 'STATUS_UNKNOWN', 'd.status_other_list', { got: list.uri, want: ref.uri });
      return facts;
    }
    if (now > list.exp) {
      checks.fail('status', 'STATUS_UNKNOWN', 'd.status_expired', { time: macaoTime(list.exp) });
      return facts;
    }
    const byte = ref.idx >> 2 < list.bytes.length ? list.bytes[ref.idx >> 2] : undefined;
    if (byte === undefined) {
      checks.fail('status', 'STATUS_UNKNOWN', 'd.status_index', { idx: ref.idx });
      return facts;
    }
    const value = STATUS_NAMES[(byte >> ((ref.idx & 3) * 2)) & 3];
    facts.value = value;
    const age = now - list.iat;
    facts.authoritative = age <= list.ttl;
    const fresh = facts.authoritative
      ? { key: 'd.status_fresh', params: { age: duration(age) } }
      : { key: 'd.status_stale', params: { time: macaoTime(list.iat), age: duration(age) } };
    const params = { value: { key: `status_value.${value}` }, fresh };
    if (value === 'VALID') checks.pass('status', 'd.status_value', params);
    else checks.fail('status', STATUS_VERDICT[value], 'd.status_value', params);
    return facts;
  }

  // -----------------------------------------------------------------------------------------
  // The PDF, verified by the server

  async function verifyPdf(file) {
    let res;
    try {
      // The bytes, not the File: the request then carries exactly what was read (and test
      // tooling can see the body it observes).
      const body = new Uint8Array(await file.arrayBuffer());
      res = await fetch('/api/v1/verify', {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/pdf', Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      throw new Failure('ERROR', t('err.network'));
    }
    const body = await res.text();
    let json = null;
    try {
      json = JSON.parse(body);
    } catch (e) {
      json = null;
    }
    if (json && typeof json.verdict === 'string' && Array.isArray(json.checks)) {
      if (json.certificate && json.certificate.usage != null) await loadUsageNames();
      return json;
    }
    const message = json && (json.error || json.message || json.detail);
    const why = typeof message === 'string' ? message : body.slice(0, 300).trim();
    if (res.status === 413 || res.status === 422 || res.status === 400) {
      // Cannot be read, or a limit was exceeded (SPEC §5: MALFORMED).
      return {
        verdict: 'MALFORMED',
        checks: [{ name: 'file', outcome: 'fail', detail: why || `HTTP ${res.status}` }],
        certificate: null,
        status: null,
        checked_at: new Date().toISOString(),
      };
    }
    if (res.status === 429 || res.status === 503) throw new Failure('ERROR', t('err.busy'));
    throw new Failure('ERROR', why ? `${t('err.server', { code: res.status })}: ${why}` : t('err.server', { code: res.status }));
  }

  // -----------------------------------------------------------------------------------------
  // Rendering

  let current = null; // {report, source: {kind: 'pdf'|'qr', name}} or {error, source}
  let runs = 0;

  function applyStaticStrings() {
    document.documentElement.lang = t('html_lang');
    document.title = t('doc_title');
    for (const e of document.querySelectorAll('[data-i18n]')) {
      e.textContent = t(e.getAttribute('data-i18n'));
    }
    const select = $('lang');
    if (select) select.value = lang;
  }

  function detailText(detail) {
    if (detail == null) return '';
    if (typeof detail === 'string') return detail;
    return t(detail.key, detail.params);
  }

  function fieldValue(name, c) {
    switch (name) {
      case 'document': {
        const type = t(`doc_type.${c.document.type}`);
        return `${type} (${c.document.type}) ···${c.document.last3}`;
      }
      case 'record_result':
        return c.record_result === 0 ? t('record_none') : t('record_some', { n: c.record_result });
      case 'issued_at':
      case 'valid_until': {
        const s = toSeconds(c[name]);
        return Number.isNaN(s) ? String(c[name]) : macaoTime(s);
      }
      case 'days_remaining':
        return t('days', { n: c.days_remaining });
      case 'usage':
        return usageName(String(c.usage));
      default:
        return c[name] == null ? '' : String(c[name]);
    }
  }

  function renderFields(c) {
    const dl = $('fields');
    dl.replaceChildren();
    $('fields-panel').hidden = !c;
    if (!c) return;
    const names = ['number', 'name_latin', 'name_chinese', 'date_of_birth', 'document', 'usage',
      'record_result', 'transfer_to', 'issued_at', 'valid_until', 'days_remaining'];
    for (const name of names) {
      if (c[name] == null || (name === 'document' && !c.document.type)) continue;
      const row = el('div', { class: 'field', 'data-field': name },
        el('dt', {}, t(`field.${name}`)),
        el('dd', { lang: name === 'name_chinese' ? 'zh-Hant' : null }, fieldValue(name, c)));
      dl.append(row);
    }
  }

  function renderChecks(checks) {
    const ol = $('checks');
    ol.replaceChildren();
    for (const c of checks || []) {
      const name = String(c.name);
      const outcome = String(c.outcome);
      const known = lookup(`check.${name}`, 'en');
      const li = el('li', { class: `check check-${outcome}`, 'data-check': name, 'data-outcome': outcome },
        el('span', { class: 'check-mark', 'aria-hidden': 'true' }, outcome === 'pass' ? '✓' : outcome === 'fail' ? '✗' : '–'),
        el('span', { class: 'check-name' }, known ? t(`check.${name}`) : name),
        el('span', { class: 'check-outcome' }, t(`outcome.${outcome}`)),
        el('span', { class: 'check-detail' }, detailText(c.detail)));
      ol.append(li);
    }
  }

  function renderStatusAge(status) {
    const p = $('status-age');
    p.removeAttribute('data-authoritative');
    if (!status) {
      p.hidden = true;
      p.textContent = '';
      return;
    }
    p.hidden = false;
    if (status.value == null || status.age_seconds == null || status.list_issued_at == null) {
      p.textContent = t('age_none');
      p.setAttribute('data-authoritative', 'false');
      p.className = 'status-age status-age-none';
      return;
    }
    const age = duration(status.age_seconds);
    p.setAttribute('data-authoritative', status.authoritative ? 'true' : 'false');
    if (status.authoritative) {
      p.textContent = t('age_fresh', { age });
      p.className = 'status-age';
    } else {
      const iat = toSeconds(status.list_issued_at);
      p.textContent = t('age_asof', { time: Number.isNaN(iat) ? status.list_issued_at : macaoTime(iat), age });
      p.className = 'status-age status-age-stale';
    }
  }

  function render() {
    if (!current) return;
    const v = $('verdict');
    const verdict = current.report ? current.report.verdict : 'ERROR';
    const known = PRECEDENCE.includes(verdict) || verdict === 'ERROR';
    const severity = SEVERITY[verdict] || 'bad';
    v.className = `verdict verdict-${severity}`;
    $('verdict-label').textContent = known ? t(`verdict.${verdict}`) : verdict;
    $('verdict-sentence').textContent = known
      ? t(`sentence.${verdict}`, { why: current.error || '' })
      : '';
    $('verdict-source').textContent = current.source.kind === 'qr'
      ? t('source_qr')
      : t('source_pdf', { name: current.source.name || '' });
    if (current.report) {
      const r = current.report;
      renderFields(r.certificate || null);
      renderChecks(r.checks);
      renderStatusAge(r.status || null);
      const at = toSeconds(r.checked_at);
      const override = current.source.kind === 'qr' && current.clockOverride ? t('clock_override') : '';
      $('checked-at').textContent = Number.isNaN(at) ? '' : t('checked_at', { time: macaoTime(at) }) + override;
    } else {
      renderFields(null);
      renderChecks([]);
      renderStatusAge(null);
      $('checked-at').textContent = '';
    }
    $('recheck').hidden = current.source.kind !== 'qr';
    $('result').hidden = false;
    // Set last: tests wait for it.
    v.setAttribute('data-verdict', verdict);
    v.setAttribute('data-run', String(runs));
  }

  function startChecking() {
    document.body.dataset.state = 'checking';
    const v = $('verdict');
    v.removeAttribute('data-verdict');
    $('busy').hidden = false;
    $('recheck').disabled = true;
  }

  function finish(result) {
    runs += 1;
    current = result;
    current.clockOverride = clockOverride() != null;
    document.body.dataset.state = 'done';
    $('busy').hidden = true;
    $('recheck').disabled = false;
    render();
    $('verdict').focus({ preventScroll: false });
  }

  async function run(source, job) {
    startChecking();
    try {
      finish({ source, report: await job() });
    } catch (e) {
      const why = e instanceof Failure ? e.message : (e && e.message) || String(e);
      finish({ source, report: null, error: why });
    }
  }

  // -----------------------------------------------------------------------------------------
  // Wiring

  function tokenFromLocation() {
    const h = location.hash;
    return h && h.length > 1 ? h.slice(1) : null;
  }

  function checkToken() {
    const fragment = tokenFromLocation();
    if (!fragment) return;
    run({ kind: 'qr' }, async () => {
      if (!cryptoAvailable()) throw new Failure('ERROR', t('err.no_crypto'));
      return verifyToken(fragment);
    });
  }

  function checkFile(file) {
    if (!file) return;
    run({ kind: 'pdf', name: file.name }, () => verifyPdf(file));
  }

  function init() {
    applyStaticStrings();

    $('lang').addEventListener('change', (e) => {
      if (LANGS.includes(e.target.value)) {
        lang = e.target.value;
        applyStaticStrings();
        render();
      }
    });

    // The PDF upload is absent where the page only verifies QR codes (served by the issuer).
    const input = $('file');
    if (input) {
      input.addEventListener('change', () => {
        checkFile(input.files && input.files[0]);
        input.value = '';
      });
    }

    const zone = $('dropzone');
    const stop = (e) => {
      e.preventDefault();
      e.stopPropagation();
    };
    if (zone) {
      for (const type of ['dragenter', 'dragover']) {
        zone.addEventListener(type, (e) => {
          stop(e);
          if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
          zone.classList.add('dropzone-active');
        });
      }
      zone.addEventListener('dragleave', (e) => {
        stop(e);
        zone.classList.remove('dropzone-active');
      });
      zone.addEventListener('drop', (e) => {
        stop(e);
        zone.classList.remove('dropzone-active');
        const files = e.dataTransfer && e.dataTransfer.files;
        if (files && files.length) checkFile(files[0]);
      });
    }
    // A file dropped outside the zone must not navigate away (and lose the page state).
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());

    $('recheck').addEventListener('click', checkToken);
    $('reset').addEventListener('click', () => {
      current = null;
      $('result').hidden = true;
      $('verdict').removeAttribute('data-verdict');
      document.body.dataset.state = 'idle';
      const next = $('upload') || $('pdf-elsewhere') || $('main');
      next.scrollIntoView({ behavior: 'smooth' });
      if ($('file')) $('file').focus();
      else $('main').focus();
    });
    window.addEventListener('hashchange', checkToken);

    checkToken();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
