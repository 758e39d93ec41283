//! Issue 2 must-show 3, the SPEC §2 boundary with a status list that is fresh at the instant
//! judged: `VALID` at 23:59:59 Macao time on D + 90 and `EXPIRED` at 00:00:00 on D + 91.
//!
//! A list exported now expires an hour later, so the test signs the bureau's list itself,
//! "as of" 23:30 on D + 90, with the home's own token-signing key (test-only use of the key).

use ccr_pki::document::CertificateData;
use ccr_pki::signer::FileKey;
use ccr_pki::status_list::{SignedStatusList, StatusList, sign_status_list};
use ccr_tests::{Workspace, check, fixture, macao_date, macao_instant, parse_rfc3339};

#[test]
fn valid_until_the_last_second_of_d_plus_90_and_expired_from_midnight() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();

    let pdf = std::fs::read(&issued.pdf).expect("read pdf");
    let doc = ccr_pki::pades::inspect(&pdf, &ccr_pki::pdf::Limits::default()).expect("inspect");
    let data = CertificateData::from_embedded_json(&doc.certificate_json).expect("data");
    let d = macao_date(data.issued_at);

    let pki = ws.home.join("pki");
    let key = FileKey::load(&pki.join("token-signer.key.p8")).expect("token key");
    let der_of = |name: &str| {
        let pem = std::fs::read(pki.join(name)).expect("cert");
        ccr_pki::hierarchy::pem_chain_to_der(&pem)
            .expect("pem")
            .remove(0)
    };
    let token_cert = der_of("token-signer.pem");
    let chain = [token_cert.clone(), der_of("issuing-ca.pem")];
    let signed_at = parse_rfc3339(&macao_instant(d, 90, "23:30:00"));
    let list = SignedStatusList::new(
        data.status.uri.clone(),
        StatusList::new(131_072).expect("list"),
        signed_at,
    );
    let bytes = sign_status_list(
        &list,
        &key,
        ccr_pki::token::kid_for_certificate(&token_cert).expect("kid"),
        &chain,
    )
    .expect("sign");
    let status = trust.dir.join("status-as-of-d90.cwt");
    std::fs::write(&status, bytes).expect("write");

    let last_second = macao_instant(d, 90, "23:59:59");
    let valid = check(&issued.pdf, &trust.root, Some(&status), Some(&last_second));
    valid.assert_verdict("VALID");
    let midnight = macao_instant(d, 91, "00:00:00");
    let expired = check(&issued.pdf, &trust.root, Some(&status), Some(&midnight));
    expired.assert_verdict("EXPIRED");
}
