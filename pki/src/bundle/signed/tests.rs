use super::*;
use crate::hierarchy::{GeneratedHierarchy, HierarchyNames, generate_hierarchy};
use crate::signer::FileKey;

fn hierarchy() -> GeneratedHierarchy {
    generate_hierarchy(
        &HierarchyNames::development(),
        "http://127.0.0.1:8080",
        OffsetDateTime::now_utc(),
    )
    .expect("hierarchy")
}

fn bundle(sequence: u64) -> TrustBundle {
    TrustBundle::new(
        "http://127.0.0.1:8080",
        OffsetDateTime::now_utc(),
        &[],
        vec![],
    )
    .with_keys(sequence, vec![])
}

fn signed(h: &GeneratedHierarchy, sequence: u64) -> Vec<u8> {
    let key = FileKey::from_pkcs8(&h.issuing_ca.pkcs8).expect("key");
    sign(&bundle(sequence), &key, &h.issuing_ca.certificate_der).expect("sign")
}

fn root(h: &GeneratedHierarchy) -> TrustRoot {
    TrustRoot::from_der(h.root.certificate_der.clone()).expect("root")
}

#[test]
fn a_signed_bundle_opens_with_its_root() {
    let h = hierarchy();
    let bytes = signed(&h, 7);
    assert!(is_signed(&bytes));
    assert!(!is_signed(&bundle(7).to_json()));
    let opened = open(&bytes, &root(&h), OffsetDateTime::now_utc()).expect("opens");
    assert_eq!(opened.sequence, 7);
}

#[test]
fn another_root_or_a_changed_byte_is_refused() {
    let h = hierarchy();
    let other = hierarchy();
    let bytes = signed(&h, 3);
    let now = OffsetDateTime::now_utc();
    let err = open(&bytes, &root(&other), now).expect_err("foreign root");
    assert!(err.to_string().contains("root"), "{err}");
    // Change the payload: the sequence 3 becomes 9 (a forged newer bundle).
    let mut envelope: Envelope = serde_json::from_slice(&bytes).expect("json");
    let forged = String::from_utf8(URL_SAFE_NO_PAD.decode(&envelope.payload).expect("b64"))
        .expect("utf8")
        .replace("\"sequence\": 3", "\"sequence\": 9");
    envelope.payload = URL_SAFE_NO_PAD.encode(forged);
    let tampered = serde_json::to_vec(&envelope).expect("json");
    let err = open(&tampered, &root(&h), now).expect_err("tampered");
    assert!(err.to_string().contains("does not verify"), "{err}");
    // Signed by the token signer (a leaf, chained but not a CA issued by the root).
    let token_key = FileKey::from_pkcs8(&h.token_signer.pkcs8).expect("key");
    let by_leaf = sign(&bundle(4), &token_key, &h.token_signer.certificate_der).expect("sign");
    assert!(open(&by_leaf, &root(&h), now).is_err());
    // Outside the CA's validity.
    let late = now + time::Duration::days(365 * 40);
    assert!(open(&bytes, &root(&h), late).is_err());
}

#[test]
fn malformed_envelopes_are_refused_without_panic() {
    let h = hierarchy();
    let now = OffsetDateTime::now_utc();
    for bad in [
        &b""[..],
        b"{}",
        b"{\"protected\":\"!!\",\"payload\":\"\",\"signature\":\"\"}",
        b"{\"protected\":\"e30\",\"payload\":\"e30\",\"signature\":\"\"}",
        b"[1,2,3]",
    ] {
        assert!(open(bad, &root(&h), now).is_err());
    }
    let huge = vec![b' '; MAX_SIGNED_BUNDLE_BYTES + 1];
    let err = open(&huge, &root(&h), now).expect_err("too big");
    assert!(err.to_string().contains("exceeds"), "{err}");
}

#[test]
fn an_older_sequence_is_a_rollback() {
    assert!(check_not_older(&bundle(5), None).is_ok());
    assert!(check_not_older(&bundle(5), Some(5)).is_ok());
    assert!(check_not_older(&bundle(6), Some(5)).is_ok());
    let err = check_not_older(&bundle(4), Some(5)).expect_err("older");
    assert!(err.to_string().contains("older"), "{err}");
}

#[test]
fn a_bundle_signed_by_an_issuing_ca_the_root_revoked_is_refused() {
    let h = hierarchy();
    let bytes = signed(&h, 1 << 40);
    let ca = parse_certificate(&h.issuing_ca.certificate_der).expect("ca");
    let now = OffsetDateTime::now_utc();
    let revocation = |serial: &[u8]| Revocation {
        serial: serial.to_vec(),
        // Revoked from a later time than any the bundle could claim: still refused.
        revoked_at: now + time::Duration::days(30),
        reason: Some(x509_cert::ext::pkix::CrlReason::KeyCompromise),
    };
    let another = revocation(&[0x7f, 0x01]);
    assert!(open_unrevoked(&bytes, &root(&h), std::slice::from_ref(&another), now).is_ok());
    let ours = revocation(ca.tbs_certificate().serial_number().as_bytes());
    let refused = open_unrevoked(&bytes, &root(&h), &[another, ours], now)
        .expect_err("a revoked CA's bundle opened");
    assert!(refused.to_string().contains("revoked"), "{refused}");
}
