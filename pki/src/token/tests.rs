//! Tests of the verification token.

use coset::{CborSerializable as _, TaggedCborSerializable as _, iana};
use time::macros::{date, datetime};

use super::*;
use crate::document::{Coded, Holder, IdentityDocument, Trilingual};
use crate::signer::{FileKey, SignatureEncoding};

const VERIFY_BASE: &str = "http://127.0.0.1:8080/verify";

/// The entries of a CBOR map.
type Entries = Vec<(Value, Value)>;

fn trilingual(s: &str) -> Trilingual {
    Trilingual {
        zh: s.to_owned(),
        pt: s.to_owned(),
        en: s.to_owned(),
    }
}

/// The typical certificate of the size budget (SPEC §4).
fn typical() -> CertificateData {
    let issued_at = datetime!(2026-11-03 10:15:30.25 +08:00);
    CertificateData {
        number: "CCR-2026-000123".to_owned(),
        holder: Holder {
            name_latin: "CHAN TAI MAN".to_owned(),
            name_chinese: Some("陳大文".to_owned()),
            date_of_birth: date!(1990 - 01 - 31),
            document: IdentityDocument {
                kind: DocumentType::Bir,
                number: "1234567(8)".to_owned(),
            },
        },
        usage: Coded {
            code: "EMPLOYMENT".to_owned(),
            name: trilingual("employment"),
        },
        records: Vec::new(),
        transfer_to: None,
        issued_at,
        valid_until: crate::validity::valid_until(issued_at),
        authority: trilingual("DSAJ"),
        status: StatusReference {
            uri: "http://127.0.0.1:8080/status/1".to_owned(),
            idx: 1 << 20,
        },
    }
}

/// The longest realistic certificate: a 60-character Latin name, 6 Chinese characters, a
/// transfer copy.
fn long() -> CertificateData {
    let mut data = typical();
    data.holder.name_latin =
        "MARIA DA CONCEIÇÃO GONÇALVES DOS SANTOS RODRIGUES FERNANDES LI".to_owned();
    data.holder.name_chinese = Some("歐陽司馬慧珊".to_owned());
    data.holder.document = IdentityDocument {
        kind: DocumentType::Passport,
        number: "P12345678".to_owned(),
    };
    data.usage.code = "RESIDENCE".to_owned();
    data.transfer_to = Some(Coded {
        code: "DSAL".to_owned(),
        name: trilingual("DSAL"),
    });
    data.records = vec![crate::document::RecordEntry {
        court: "TJB".to_owned(),
        case_number: "CR1-26-0001-PCS".to_owned(),
        decision_date: date!(2025 - 06 - 01),
        offence: "x".to_owned(),
        sentence: "y".to_owned(),
    }];
    data.status.idx = (1 << 20) - 1;
    data
}

/// An opaque kid: these tests sign with keys that have no certificate.
const TEST_KID: [u8; 8] = *b"test-kid";

fn key() -> FileKey {
    FileKey::generate().expect("generate").0
}

fn signed(data: &CertificateData, key: &FileKey) -> (TokenClaims, Vec<u8>) {
    let json = data.to_embedded_json();
    let claims = TokenClaims::from_certificate(data, &json);
    let token = sign(&claims, key, TEST_KID).expect("sign");
    (claims, token)
}

/// Signs arbitrary headers and payload, bypassing every check of [`sign`].
fn sign_raw(
    protected: coset::Header,
    unprotected: coset::Header,
    payload: Vec<u8>,
    key: &FileKey,
) -> Vec<u8> {
    coset::CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(payload)
        .create_signature(&[], |tbs| {
            key.sign(tbs, SignatureEncoding::Fixed).expect("sign")
        })
        .build()
        .to_vec()
        .expect("encode")
}

/// The level-M version of the two-segment QR code of `url` (SPEC §4).
fn qr_version(url: &str) -> i16 {
    qr::version(url).expect("fits a QR code")
}

#[test]
fn token_round_trips() {
    let key = key();
    let data = typical();
    let (claims, token) = signed(&data, &key);
    let parsed = parse(&token).expect("parse");
    assert_eq!(parsed.kid(), TEST_KID);
    assert_eq!(parsed.claims_unverified(), &claims);
    let verified = parsed.verify(key.public_key_spki_der()).expect("verify");
    assert_eq!(verified, claims);
    assert_eq!(
        verified.issued_at,
        datetime!(2026-11-03 02:15:30 UTC),
        "whole seconds, UTC"
    );
    assert_eq!(verified.expires_at, data.valid_until);
    assert_eq!(verified.document.last3, "(8)");
    assert!(
        verified
            .disagreements(&data, &data.to_embedded_json())
            .is_empty()
    );

    // A transfer copy with records and no Chinese name round-trips too.
    let mut other = long();
    other.holder.name_chinese = None;
    let (claims, token) = signed(&other, &key);
    let verified = parse(&token)
        .expect("parse")
        .verify(key.public_key_spki_der())
        .expect("verify");
    assert_eq!(verified, claims);
    assert_eq!(verified.transfer_to.as_deref(), Some("DSAL"));
    assert_eq!(verified.record_result, 1);
    assert_eq!(verified.name_chinese, None);
}

#[test]
fn token_encoding_is_compact_cbor() {
    let key = key();
    let (_, token) = signed(&typical(), &key);
    // Tag 18, array of 4, protected header {1: -7, 4: h'kid'} as a 13-byte bstr.
    assert_eq!(&token[..4], &[0xd2, 0x84, 0x4d, 0xa2]);
    assert_eq!(&token[4..8], &[0x01, 0x26, 0x04, 0x48]);
    let sign1 = coset::CoseSign1::from_tagged_slice(&token).expect("coset reads it");
    assert!(sign1.unprotected.is_empty());
    let claims = cose::from_slice(sign1.payload.as_deref().expect("payload"), "t").expect("cbor");
    let keys: Vec<i128> = claims
        .as_map()
        .expect("map")
        .iter()
        .map(|(k, _)| i128::from(k.as_integer().expect("int key")))
        .collect();
    assert_eq!(keys, [2, 4, 6, 65535, -65537]);
}

#[test]
fn token_is_untagged_or_tag_18_only() {
    let key = key();
    let (claims, token) = signed(&typical(), &key);
    let untagged = &token[1..];
    let verified = parse(untagged)
        .expect("parse")
        .verify(key.public_key_spki_der())
        .expect("verify");
    assert_eq!(verified, claims);
    let mut other_tag = token.clone();
    other_tag[0] = 0xd1; // tag 17: COSE_Mac0
    let e = parse(&other_tag).expect_err("tag 17");
    assert!(e.to_string().contains("tag 17"), "{e}");
    let mut trailing = token;
    trailing.push(0);
    assert!(parse(&trailing).is_err());
}

#[test]
fn every_single_byte_change_is_rejected() {
    let key = key();
    let spki = key.public_key_spki_der().to_vec();
    let (_, token) = signed(&typical(), &key);
    let mut accepted = Vec::new();
    for i in 0..token.len() {
        for delta in 1..=255u8 {
            let mut t = token.clone();
            t[i] ^= delta;
            if parse(&t).and_then(|p| p.verify(&spki)).is_ok() {
                accepted.push((i, delta));
            }
        }
    }
    assert!(accepted.is_empty(), "accepted changes: {accepted:?}");
}

#[test]
fn token_from_another_key_fails() {
    let (_, token) = signed(&typical(), &key());
    let e = parse(&token)
        .expect("parse")
        .verify(key().public_key_spki_der())
        .expect_err("other key");
    assert!(e.to_string().contains("signature"), "{e}");
}

#[test]
fn oversize_input_is_rejected() {
    let key = key();
    let (_, token) = signed(&typical(), &key);
    let mut big = token.clone();
    big.resize(MAX_TOKEN_LEN + 1, 0);
    let e = parse(&big).expect_err("oversize");
    assert!(e.to_string().contains("limit"), "{e}");
    let long_text = "A".repeat(MAX_URL_LEN + 1);
    assert!(from_url_or_text(&long_text).is_err());
    // A token of more than MAX_TOKEN_LEN bytes that fits the text limit is refused too.
    let text = B64URL.encode(vec![0u8; MAX_TOKEN_LEN + 3]);
    assert!(text.len() <= MAX_URL_LEN);
    assert!(from_url_or_text(&text).is_err());
    // Claims that would make an oversize token are refused at signing.
    let mut claims = parse(&token).expect("parse").claims_unverified().clone();
    claims.name_latin = "X".repeat(MAX_TOKEN_LEN);
    assert!(sign(&claims, &key, [0; KID_LEN]).is_err());
}

#[test]
fn disagreements_name_the_changed_fields() {
    let data = typical();
    let json = data.to_embedded_json();
    let claims = TokenClaims::from_certificate(&data, &json);
    assert!(claims.disagreements(&data, &json).is_empty());

    let mut renamed = data.clone();
    renamed.holder.name_latin = "CHAN TAI WAN".to_owned();
    // The same embedded bytes: only the name differs.
    assert_eq!(claims.disagreements(&renamed, &json), ["name_latin"]);
    // The document's own bytes: the digest differs too.
    assert_eq!(
        claims.disagreements(&renamed, &renamed.to_embedded_json()),
        ["name_latin", "digest"]
    );

    let mut moved = data.clone();
    moved.status.idx += 1;
    moved.transfer_to = Some(Coded {
        code: "PSP".to_owned(),
        name: trilingual("PSP"),
    });
    moved.valid_until += time::Duration::DAY;
    assert_eq!(
        claims.disagreements(&moved, &json),
        ["transfer_to", "expires_at", "status"]
    );
}

#[test]
fn parse_is_strict_about_headers_and_types() {
    let key = key();
    let (claims, _) = signed(&typical(), &key);
    let payload = claims.to_cbor().expect("cbor");
    let kid = vec![7u8; KID_LEN];
    let es256 = || coset::HeaderBuilder::new().algorithm(iana::Algorithm::ES256);

    // The reference: the raw signer produces an acceptable token.
    let ok = sign_raw(
        es256().key_id(kid.clone()).build(),
        coset::Header::default(),
        payload.clone(),
        &key,
    );
    parse(&ok)
        .expect("raw")
        .verify(key.public_key_spki_der())
        .expect("verify");
    // kid in the unprotected header is accepted.
    let unprotected_kid = sign_raw(
        es256().build(),
        coset::HeaderBuilder::new().key_id(kid.clone()).build(),
        payload.clone(),
        &key,
    );
    assert_eq!(
        parse(&unprotected_kid).expect("kid unprotected").kid(),
        [7u8; KID_LEN]
    );

    let refused = [
        (
            "alg ES384",
            sign_raw(
                coset::HeaderBuilder::new()
                    .algorithm(iana::Algorithm::ES384)
                    .key_id(kid.clone())
                    .build(),
                coset::Header::default(),
                payload.clone(),
                &key,
            ),
        ),
        (
            "alg unprotected",
            sign_raw(
                coset::HeaderBuilder::new().key_id(kid.clone()).build(),
                es256().build(),
                payload.clone(),
                &key,
            ),
        ),
        (
            "crit",
            sign_raw(
                es256()
                    .key_id(kid.clone())
                    .add_critical(iana::HeaderParameter::ContentType)
                    .build(),
                coset::Header::default(),
                payload.clone(),
                &key,
            ),
        ),
        (
            "no kid",
            sign_raw(
                es256().build(),
                coset::Header::default(),
                payload.clone(),
                &key,
            ),
        ),
        (
            "short kid",
            sign_raw(
                es256().key_id(vec![1, 2]).build(),
                coset::Header::default(),
                payload.clone(),
                &key,
            ),
        ),
        (
            "kid twice",
            sign_raw(
                es256().key_id(kid.clone()).build(),
                coset::HeaderBuilder::new().key_id(kid.clone()).build(),
                payload.clone(),
                &key,
            ),
        ),
    ];
    for (what, t) in refused {
        assert!(parse(&t).is_err(), "{what} must be refused");
    }

    // Claims: wrong types and missing claims are refused, unknown claims ignored.
    let claims_value = cose::from_slice(&payload, "t").expect("cbor");
    let edit = |f: &dyn Fn(&mut Entries)| {
        let mut v = claims_value.clone();
        if let Value::Map(m) = &mut v {
            f(m);
        }
        sign_raw(
            es256().key_id(kid.clone()).build(),
            coset::Header::default(),
            cose::to_vec(&v).expect("cbor"),
            &key,
        )
    };
    let set = |key: i64, value: Value| {
        move |m: &mut Entries| {
            for (k, v) in m.iter_mut() {
                if *k == cose::int_value(key) {
                    *v = value.clone();
                }
            }
        }
    };
    let unknown = edit(&|m| m.push((cose::int_value(99), Value::Text("future".into()))));
    assert_eq!(
        parse(&unknown)
            .expect("unknown claim ignored")
            .claims_unverified(),
        &claims
    );
    let wrong = [
        ("sub integer", edit(&set(CLAIM_SUB, cose::int_value(5)))),
        (
            "iat text",
            edit(&set(CLAIM_IAT, Value::Text("2026".into()))),
        ),
        ("exp float", edit(&set(CLAIM_EXP, Value::Float(1.5e9)))),
        (
            "status as array",
            edit(&set(CLAIM_STATUS, Value::Array(vec![]))),
        ),
        (
            "certificate as bytes",
            edit(&set(CLAIM_CERTIFICATE, Value::Bytes(vec![1]))),
        ),
        (
            "no sub",
            edit(&|m| m.retain(|(k, _)| *k != cose::int_value(CLAIM_SUB))),
        ),
        (
            "duplicate sub",
            edit(&|m| m.push((cose::int_value(CLAIM_SUB), Value::Text("X".into())))),
        ),
    ];
    for (what, t) in wrong {
        assert!(parse(&t).is_err(), "{what} must be refused");
    }
    let cert_edits: [(&str, i64, Value); 6] = [
        ("short digest", CERT_DIGEST, Value::Bytes(vec![0; 15])),
        (
            "bad date",
            CERT_DATE_OF_BIRTH,
            Value::Text("31/01/1990".into()),
        ),
        (
            "negative record result",
            CERT_RECORD_RESULT,
            cose::int_value(-1),
        ),
        (
            "unknown document type",
            CERT_DOCUMENT,
            Value::Array(vec![Value::Text("XX".into()), Value::Text("123".into())]),
        ),
        (
            "long last3",
            CERT_DOCUMENT,
            Value::Array(vec![Value::Text("BIR".into()), Value::Text("1234".into())]),
        ),
        ("name integer", CERT_NAME_LATIN, cose::int_value(1)),
    ];
    for (what, label, value) in cert_edits {
        let t = edit(&|m| {
            for (k, v) in m.iter_mut() {
                if *k == cose::int_value(CLAIM_CERTIFICATE)
                    && let Value::Map(c) = v
                {
                    for (ck, cv) in c.iter_mut() {
                        if *ck == cose::int_value(label) {
                            *cv = value.clone();
                        }
                    }
                }
            }
        });
        assert!(parse(&t).is_err(), "{what} must be refused");
    }
}

#[test]
fn sign_refuses_claims_that_do_not_round_trip() {
    let key = key();
    let data = typical();
    let mut claims = TokenClaims::from_certificate(&data, b"{}");
    claims.issued_at = data.issued_at; // has a fraction of a second
    assert!(sign(&claims, &key, [0; KID_LEN]).is_err());
    let mut claims = TokenClaims::from_certificate(&data, b"{}");
    claims.document.last3 = "12345".to_owned();
    assert!(sign(&claims, &key, [0; KID_LEN]).is_err());
}

#[test]
fn url_round_trips() {
    let key = key();
    let (_, token) = signed(&typical(), &key);
    let url = to_url(VERIFY_BASE, &token);
    let fragment = url
        .strip_prefix("http://127.0.0.1:8080/verify#")
        .expect("prefix");
    assert!(decimal::is_decimal(fragment), "{url}");
    assert_eq!(fragment, decimal::encode(&token));
    assert_eq!(from_url_or_text(&url).expect("url"), token);
    assert_eq!(
        from_url_or_text(&format!("  {fragment}\n")).expect("bare"),
        token
    );
    // The older base64url fragment is still read.
    let b64 = B64URL.encode(&token);
    assert_eq!(
        from_url_or_text(&format!("http://x/verify#{b64}")).expect("base64url"),
        token
    );
    assert_eq!(
        from_url_or_text(&format!("{b64}{}", "=".repeat((4 - b64.len() % 4) % 4))).expect("padded"),
        token
    );
    // A decimal fragment is decoded strictly.
    let e = from_url_or_text(&format!("http://x/verify#{fragment}1"))
        .expect_err("bad length")
        .to_string();
    assert!(e.contains("not a valid token length"), "{e}");
    assert!(from_url_or_text("http://x/verify#").is_err());
    assert!(
        from_url_or_text("abc+def/").is_err(),
        "standard base64 alphabet refused"
    );
}

#[test]
fn claims_serialise_to_the_report_json() {
    let data = typical();
    let claims = TokenClaims::from_certificate(&data, b"{}");
    let json = serde_json::to_value(&claims).expect("json");
    assert_eq!(json["date_of_birth"], "1990-01-31");
    assert_eq!(json["issued_at"], "2026-11-03T02:15:30Z");
    assert_eq!(
        json["document"],
        serde_json::json!({"type": "BIR", "last3": "(8)"})
    );
    assert_eq!(
        json["status"],
        serde_json::json!({"uri": "http://127.0.0.1:8080/status/1", "idx": 1048576})
    );
    assert_eq!(
        json["digest"],
        hex::encode(CertificateData::binding_digest(b"{}"))
    );
    assert_eq!(json["transfer_to"], serde_json::Value::Null);
    let back: TokenClaims = serde_json::from_value(json).expect("back");
    assert_eq!(back, claims);
}

#[test]
fn schema_matches_the_json_form() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../schemas/token-claims.schema.json"))
            .expect("schema");
    let json = serde_json::to_value(TokenClaims::from_certificate(&long(), b"{}")).expect("json");
    crate::test_support::assert_keys_are_the_required_ones(&schema, &json);
    for example in schema["examples"].as_array().expect("examples") {
        let claims: TokenClaims = serde_json::from_value(example.clone()).expect("example reads");
        assert_eq!(&serde_json::to_value(&claims).expect("json"), example);
    }
}

/// Measured size of the typical token (deterministic: fixed claims, 64-byte signature).
const TYPICAL_TOKEN_LEN: usize = 251;
/// QR version (level M) of the SPEC §4 budget for a typical certificate.
const BUDGET_QR_VERSION: i16 = 12;
/// QR version (level M) of the SPEC §4 budget for the longest realistic certificate.
const LONG_BUDGET_QR_VERSION: i16 = 14;

/// Token size and QR version of the typical and the long certificate. Run with
/// `--nocapture` to see the numbers.
#[test]
fn token_size_and_qr_version() {
    let key = key();
    for (name, data) in [("typical", typical()), ("long", long())] {
        let (_, token) = signed(&data, &key);
        let url = to_url(VERIFY_BASE, &token);
        println!(
            "{name} token: {} bytes, URL {} chars, QR {}-M",
            token.len(),
            url.len(),
            qr_version(&url)
        );
        assert!(token.len() <= MAX_TOKEN_LEN);
    }
    let (_, typical_token) = signed(&typical(), &key);
    assert_eq!(typical_token.len(), TYPICAL_TOKEN_LEN);
}

/// The SPEC §4 budget at level M with the two-segment QR code: the typical certificate at
/// version 12 or lower, the longest realistic one at version 14 or lower.
#[test]
fn tokens_fit_the_spec_qr_budget() {
    let key = key();
    let (_, token) = signed(&typical(), &key);
    let v = qr_version(&to_url(VERIFY_BASE, &token));
    assert!(
        v <= BUDGET_QR_VERSION,
        "typical token QR version {v}-M > {BUDGET_QR_VERSION}-M"
    );
    let (_, token) = signed(&long(), &key);
    let v = qr_version(&to_url(VERIFY_BASE, &token));
    assert!(
        v <= LONG_BUDGET_QR_VERSION,
        "long token QR version {v}-M > {LONG_BUDGET_QR_VERSION}-M"
    );
}

/// Writes sample tokens for the Python oracles (`tests/oracles/verify_cose.py`) into
/// `$CCR_INTEROP_DIR`: `token.cose`, `token-long.cose`, `token-key.p8` (PKCS#8, to make a
/// certificate with openssl), `token-spki.der`, `token-spki.pem` and the claims as JSON.
#[test]
#[ignore = "writes interop samples; set CCR_INTEROP_DIR"]
fn write_interop_samples() {
    let Some(dir) = std::env::var_os("CCR_INTEROP_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let (key, pkcs8) = FileKey::generate().expect("generate");
    let spki = key.public_key_spki_der();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(spki)
    );
    std::fs::write(dir.join("token-key.p8"), &pkcs8).expect("write");
    std::fs::write(dir.join("token-spki.der"), spki).expect("write");
    std::fs::write(dir.join("token-spki.pem"), pem).expect("write");
    for (name, data) in [("token", typical()), ("token-long", long())] {
        let (claims, token) = signed(&data, &key);
        std::fs::write(dir.join(format!("{name}.cose")), &token).expect("write");
        let json = serde_json::to_vec_pretty(&claims).expect("json");
        std::fs::write(dir.join(format!("{name}-claims.json")), json).expect("write");
        std::fs::write(dir.join(format!("{name}.url")), to_url(VERIFY_BASE, &token))
            .expect("write");
    }
}

/// Issue 12 must-show 3 at the URL level: a bad decimal fragment is refused with an error that
/// says what is wrong, and nothing panics.
#[test]
fn bad_decimal_fragments_are_refused_with_a_clear_error() {
    let cases: Vec<(String, &str)> = vec![
        ("http://x/verify#".to_owned(), "no token"),
        ("http://x/verify#   ".to_owned(), "no token"),
        (
            "http://x/verify#1234".to_owned(),
            "length 4 is not a valid token length",
        ),
        ("http://x/verify#256".to_owned(), "too large for 1 bytes"),
        (
            format!("http://x/verify#{}", "9".repeat(17)),
            "too large for 7 bytes",
        ),
        // Too long for a URL at all.
        (
            format!("http://x/verify#{}", "0".repeat(MAX_URL_LEN)),
            "exceeds 4096",
        ),
        // A non-digit in a decimal fragment: neither decimal nor base64url.
        (
            "http://x/verify#12345678901234567.".to_owned(),
            "neither decimal nor base64url",
        ),
    ];
    for (input, expected) in cases {
        let e = from_url_or_text(&input).expect_err(&input).to_string();
        assert!(e.contains(expected), "{input:.60}…: {e}");
    }
    // More bytes than any token may have is refused before decoding.
    let e = decimal::decode(&"0".repeat(17 * (MAX_TOKEN_LEN / 7 + 1)), MAX_TOKEN_LEN)
        .expect_err("oversized")
        .to_string();
    assert!(e.contains("2051 bytes exceed 2048"), "{e}");
}
