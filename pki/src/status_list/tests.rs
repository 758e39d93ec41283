//! Tests of the status list.

use rand::Rng as _;

use super::*;
use crate::signer::FileKey;

const URI: &str = "http://127.0.0.1:8080/status/1";

fn key() -> FileKey {
    FileKey::generate().expect("generate").0
}

fn sample(len: u32) -> SignedStatusList {
    let mut list = StatusList::new(len).expect("list");
    list.set(0, Status::Revoked).expect("set");
    list.set(5, Status::Suspended).expect("set");
    list.set(len - 1, Status::Superseded).expect("set");
    SignedStatusList::new(
        URI,
        list,
        time::macros::datetime!(2026-11-03 02:15:30.5 UTC),
    )
}

fn chain() -> Vec<Vec<u8>> {
    vec![
        b"token-signing certificate DER".to_vec(),
        b"issuing CA certificate DER".to_vec(),
    ]
}

/// A list of `len` entries with `per_mille`/1000 of them revoked at random indexes.
fn random_list(len: u32, per_mille: u32) -> StatusList {
    let mut list = StatusList::new(len).expect("list");
    let mut rng = rand::rng();
    let target = len / 1000 * per_mille;
    let mut revoked = 0;
    while revoked < target {
        let idx = rng.random_range(0..len);
        if list.get(idx) == Some(Status::Valid) {
            list.set(idx, Status::Revoked).expect("set");
            revoked += 1;
        }
    }
    list
}

#[test]
fn status_list_round_trips() {
    let key = key();
    let status = sample(131_072);
    assert_eq!(status.expires_at - status.issued_at, Duration::HOUR);
    assert_eq!(status.issued_at.nanosecond(), 0);
    // An opaque kid: the chain here is placeholder bytes, not certificates.
    let kid = *b"test-kid";
    let bytes = sign_status_list(&status, &key, kid, &chain()).expect("sign");
    let parsed = parse_status_list(&bytes, 131_072).expect("parse");
    assert_eq!(parsed.kid(), kid);
    assert_eq!(parsed.chain_der(), chain().as_slice());
    assert_eq!(parsed.uri_unverified(), URI);
    let verified = parsed.verify(key.public_key_spki_der()).expect("verify");
    assert_eq!(
        verified.signer_key_id,
        Some(crate::signer::key_id_hex(&key).expect("key id")),
        "the verified list names the key that signed it"
    );
    assert_eq!(
        SignedStatusList {
            signer_key_id: None,
            ..verified.clone()
        },
        status
    );
    assert_eq!(verified.list.get(0), Some(Status::Revoked));
    assert_eq!(verified.list.get(1), Some(Status::Valid));
    assert_eq!(verified.list.get(5), Some(Status::Suspended));
    assert_eq!(verified.list.get(131_071), Some(Status::Superseded));
    assert_eq!(verified.list.get(131_072), None);
    assert_eq!(verified.ttl_seconds, 300);

    // Without a chain, and untagged.
    let bytes = sign_status_list(&status, &key, kid, &[]).expect("sign");
    let parsed = parse_status_list(&bytes[1..], 131_072).expect("parse untagged");
    assert!(parsed.chain_der().is_empty());
    assert_eq!(
        SignedStatusList {
            signer_key_id: None,
            ..parsed.verify(key.public_key_spki_der()).expect("verify")
        },
        status
    );
}

#[test]
fn status_list_cwt_layout() {
    let key = key();
    let bytes = sign_status_list(&sample(4096), &key, [9; 8], &chain()).expect("sign");
    let sign1 = cose::parse_sign1(&bytes, 1 << 20, "t").expect("parse");
    let value = cose::from_slice(&sign1.payload, "t").expect("cbor");
    let keys: Vec<i128> = value
        .as_map()
        .expect("map")
        .iter()
        .map(|(k, _)| i128::from(k.as_integer().expect("int")))
        .collect();
    assert_eq!(keys, [2, 4, 6, 65533, 65534]);
    let protected = sign1.protected.rest.first().expect("typ");
    assert_eq!(protected.0, coset::Label::Int(16));
    assert_eq!(
        protected.1,
        Value::Text("application/statuslist+cwt".into())
    );
    assert_eq!(
        sign1.unprotected.rest.first().expect("x5chain").0,
        coset::Label::Int(33)
    );
}

/// draft-ietf-oauth-status-list §4.1, the 2-bit example: statuses 1 2 0 3 | 0 1 0 1 | 1 2 3 3
/// give the bytes 0xC9 0x44 0xF9.
#[test]
fn bit_layout_matches_the_draft_example() {
    let values = [1u8, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
    let mut list = StatusList::new(12).expect("list");
    for (i, v) in values.iter().enumerate() {
        let status = Status::from_code(*v).expect("code");
        list.set(u32::try_from(i).expect("idx"), status)
            .expect("set");
    }
    assert_eq!(list.as_bytes(), &[0xC9, 0x44, 0xF9]);
    for (i, v) in values.iter().enumerate() {
        assert_eq!(
            list.get(u32::try_from(i).expect("idx")).map(Status::code),
            Some(*v)
        );
    }
    // Overwriting clears the old bits.
    list.set(3, Status::Valid).expect("set");
    assert_eq!(list.as_bytes()[0], 0x09);
    let back = StatusList::decompress(&list.compress().expect("compress"), 12).expect("inflate");
    assert_eq!(back, list);
}

#[test]
fn list_bounds() {
    assert!(StatusList::new(0).is_err());
    assert!(StatusList::new(6).is_err());
    let mut list = StatusList::new(8).expect("list");
    assert_eq!((list.len(), list.bits(), list.is_empty()), (8, 2, false));
    assert!(list.set(8, Status::Revoked).is_err());
    assert_eq!(list.get(8), None);
    assert_eq!(list.get(u32::MAX), None);
    assert!(list.set(u32::MAX, Status::Revoked).is_err());
}

#[test]
fn decompression_is_bounded() {
    // A zlib bomb: 4 MiB of zeros compress to about 4 KiB.
    let bomb = StatusList::new(16 << 20).expect("16 Mi entries");
    let compressed = bomb.compress().expect("compress");
    assert!(compressed.len() < 8 * 1024, "{}", compressed.len());
    let e = StatusList::decompress(&compressed, 1 << 20).expect_err("bomb");
    assert!(e.to_string().contains("limit"), "{e}");

    // Exactly at the limit is fine, one byte (4 entries) more is not.
    let list = StatusList::new(131_072).expect("list");
    let compressed = list.compress().expect("compress");
    assert_eq!(
        StatusList::decompress(&compressed, 131_072).expect("at limit"),
        list
    );
    assert!(StatusList::decompress(&compressed, 131_068).is_err());

    // Truncated, corrupted checksum, trailing bytes, not zlib, empty.
    let good = sample(4096).list.compress().expect("compress");
    assert!(
        StatusList::decompress(&good[..good.len() - 5], 4096).is_err(),
        "truncated"
    );
    let mut bad_sum = good.clone();
    let last = bad_sum.len() - 1;
    bad_sum[last] ^= 1;
    assert!(StatusList::decompress(&bad_sum, 4096).is_err(), "adler32");
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(StatusList::decompress(&trailing, 4096).is_err(), "trailing");
    assert!(StatusList::decompress(b"not zlib", 4096).is_err());
    assert!(StatusList::decompress(&[], 4096).is_err());

    // The signed form refuses an oversize list at parse time (before any inflation).
    let key = key();
    let noisy = SignedStatusList::new(URI, random_list(1 << 20, 500), OffsetDateTime::UNIX_EPOCH);
    let bytes = sign_status_list(&noisy, &key, [0; 8], &[]).expect("sign");
    let e = parse_status_list(&bytes, 131_072).expect_err("too big");
    assert!(e.to_string().contains("limit"), "{e}");
    // A compact bomb passes parsing but verification refuses to inflate it.
    let bomb = SignedStatusList::new(
        URI,
        StatusList::new(1 << 24).expect("list"),
        OffsetDateTime::UNIX_EPOCH,
    );
    let bytes = sign_status_list(&bomb, &key, [0; 8], &[]).expect("sign");
    let parsed = parse_status_list(&bytes, 131_072).expect("small enough to parse");
    assert!(parsed.verify(key.public_key_spki_der()).is_err());
}

#[test]
fn tampering_is_rejected() {
    let key = key();
    let bytes = sign_status_list(&sample(4096), &key, [1; 8], &chain()).expect("sign");
    let spki = key.public_key_spki_der().to_vec();

    let mut sig = bytes.clone();
    let last = sig.len() - 1;
    sig[last] ^= 0x01;
    let e = parse_status_list(&sig, 4096)
        .expect("parse")
        .verify(&spki)
        .expect_err("signature");
    assert!(e.to_string().contains("signature"), "{e}");

    // Every single-byte change outside the unprotected x5chain (which the signature does not
    // cover by design: the chain is validated on its own) fails.
    let chain_start = bytes
        .windows(chain()[0].len())
        .position(|w| w == chain()[0].as_slice())
        .expect("chain")
        - 8;
    let chain_end = bytes
        .windows(chain()[1].len())
        .position(|w| w == chain()[1].as_slice())
        .expect("chain")
        + chain()[1].len();
    for i in (0..bytes.len()).filter(|i| !(chain_start..chain_end).contains(i)) {
        for delta in [0x01u8, 0x80, 0xff] {
            let mut t = bytes.clone();
            t[i] ^= delta;
            assert!(
                parse_status_list(&t, 4096)
                    .and_then(|p| p.verify(&spki))
                    .is_err(),
                "byte {i} ^ {delta:#x} accepted"
            );
        }
    }

    assert!(
        parse_status_list(&bytes, 4096)
            .expect("parse")
            .verify(key_spki().as_slice())
            .is_err()
    );
}

fn key_spki() -> Vec<u8> {
    key().public_key_spki_der().to_vec()
}

#[test]
fn parse_is_strict() {
    let key = key();
    let status = sample(4096);
    let payload = |bits: u8, extra: Option<(i64, Value)>| {
        let mut claims = vec![
            (CLAIM_SUB, Value::Text(URI.into())),
            (CLAIM_EXP, cose::int_value(2_000_000_000)),
            (CLAIM_IAT, cose::int_value(1_999_999_000)),
            (
                CLAIM_STATUS_LIST,
                cose::text_map(vec![
                    (
                        "lst",
                        Value::Bytes(status.list.compress().expect("compress")),
                    ),
                    ("bits", cose::int_value(bits)),
                ]),
            ),
            (CLAIM_TTL, cose::int_value(300)),
        ];
        if let Some((k, v)) = extra {
            claims.retain(|(key, _)| *key != k);
            claims.push((k, v));
        }
        cose::to_vec(&cose::int_map(claims)).expect("cbor")
    };
    let typ = |t: &str| vec![(HEADER_TYP, Value::Text(t.into()))];
    let signed = |extra: Vec<(i64, Value)>, payload: Vec<u8>| {
        cose::sign1(
            cose::es256_protected([0; 8], extra),
            coset::Header::default(),
            payload,
            &key,
        )
        .expect("sign")
    };
    let spki = key.public_key_spki_der().to_vec();
    let ok = signed(typ(STATUS_LIST_CWT_TYPE), payload(2, None));
    parse_status_list(&ok, 4096)
        .expect("parse")
        .verify(&spki)
        .expect("reference verifies");
    let unknown = signed(
        typ(STATUS_LIST_CWT_TYPE),
        payload(2, Some((7, Value::Null))),
    );
    parse_status_list(&unknown, 4096).expect("unknown claim ignored");

    let refused = [
        ("no typ", signed(Vec::new(), payload(2, None))),
        (
            "wrong typ",
            signed(typ("application/cwt"), payload(2, None)),
        ),
        ("1 bit", signed(typ(STATUS_LIST_CWT_TYPE), payload(1, None))),
        (
            "ttl text",
            signed(
                typ(STATUS_LIST_CWT_TYPE),
                payload(2, Some((CLAIM_TTL, Value::Text("300".into())))),
            ),
        ),
        (
            "sub bytes",
            signed(
                typ(STATUS_LIST_CWT_TYPE),
                payload(2, Some((CLAIM_SUB, Value::Bytes(vec![1])))),
            ),
        ),
        (
            "lst text",
            signed(
                typ(STATUS_LIST_CWT_TYPE),
                payload(
                    2,
                    Some((
                        CLAIM_STATUS_LIST,
                        cose::text_map(vec![
                            ("bits", cose::int_value(2)),
                            ("lst", Value::Text("x".into())),
                        ]),
                    )),
                ),
            ),
        ),
        (
            "x5chain in protected as text",
            signed(
                vec![
                    (HEADER_TYP, Value::Text(STATUS_LIST_CWT_TYPE.into())),
                    (HEADER_X5CHAIN, Value::Text("x".into())),
                ],
                payload(2, None),
            ),
        ),
    ];
    for (what, t) in refused {
        assert!(
            parse_status_list(&t, 4096).is_err(),
            "{what} must be refused"
        );
    }
}

#[test]
fn status_list_serialises_to_the_draft_json() {
    let status = sample(4096);
    let json = serde_json::to_value(&status).expect("json");
    assert_eq!(json["uri"], URI);
    assert_eq!(json["issued_at"], "2026-11-03T02:15:30Z");
    assert_eq!(json["expires_at"], "2026-11-03T03:15:30Z");
    assert_eq!(json["ttl_seconds"], 300);
    assert_eq!(json["list"]["bits"], 2);
    let lst = json["list"]["lst"].as_str().expect("lst");
    let compressed = URL_SAFE_NO_PAD.decode(lst).expect("base64url");
    assert_eq!(
        StatusList::decompress(&compressed, 4096).expect("inflate"),
        status.list
    );
    assert_eq!(
        serde_json::to_value(Status::Superseded).expect("json"),
        "SUPERSEDED"
    );
}

#[test]
fn schema_matches_the_json_form() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../schemas/status-list.schema.json"))
            .expect("schema");
    let json = serde_json::to_value(sample(4096)).expect("json");
    crate::test_support::assert_keys_are_the_required_ones(&schema, &json);
    let example = &schema["examples"][0];
    let lst = example["list"]["lst"].as_str().expect("lst");
    let list = StatusList::decompress(&URL_SAFE_NO_PAD.decode(lst).expect("b64"), 131_072)
        .expect("inflate");
    assert_eq!(list.len(), 131_072);
    assert_eq!(list.get(0), Some(Status::Revoked));
    assert_eq!(list.get(5), Some(Status::Suspended));
    assert_eq!(list.get(131_071), Some(Status::Superseded));
    assert_eq!(example["list"]["bits"], 2);
}

/// Compressed sizes of realistic lists. Run with `--nocapture` to see the numbers.
#[test]
fn compressed_sizes() {
    for (len, bound) in [(131_072u32, 3_000usize), (1_048_576, 24_000)] {
        let empty = StatusList::new(len)
            .expect("list")
            .compress()
            .expect("compress")
            .len();
        let list = random_list(len, 10);
        let compressed = list.compress().expect("compress");
        let key = key();
        let signed = sign_status_list(
            &SignedStatusList::new(URI, list.clone(), OffsetDateTime::UNIX_EPOCH),
            &key,
            [0; 8],
            &[],
        )
        .expect("sign");
        println!(
            "{len} entries: raw {} B, compressed {empty} B empty, {} B with 1 % revoked, signed CWT {} B",
            list.as_bytes().len(),
            compressed.len(),
            signed.len()
        );
        assert!(
            compressed.len() < bound,
            "{len}: {} bytes",
            compressed.len()
        );
        assert_eq!(
            StatusList::decompress(&compressed, len).expect("inflate"),
            list
        );
    }
}

/// Writes a sample status list for the Python oracles (`tests/oracles/status_bits.py`,
/// `verify_cose.py`) into `$CCR_INTEROP_DIR`: `status.cwt`, `status-spki.der` and
/// `status-expected.json` (index -> status code for a few indexes).
#[test]
#[ignore = "writes interop samples; set CCR_INTEROP_DIR"]
fn write_interop_samples() {
    let Some(dir) = std::env::var_os("CCR_INTEROP_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let key = key();
    let mut list = random_list(131_072, 10);
    let mut expected = serde_json::Map::new();
    for (idx, status) in [
        (0, Status::Revoked),
        (1, Status::Suspended),
        (2, Status::Superseded),
        (3, Status::Valid),
        (77_777, Status::Suspended),
        (131_071, Status::Superseded),
    ] {
        list.set(idx, status).expect("set");
    }
    for idx in [0u32, 1, 2, 3, 4, 5, 6, 7, 1000, 77_777, 131_070, 131_071] {
        let code = list.get(idx).expect("in range").code();
        expected.insert(idx.to_string(), serde_json::Value::from(code));
    }
    let revoked: Vec<u32> = (0..list.len())
        .filter(|i| list.get(*i) == Some(Status::Revoked))
        .take(20)
        .collect();
    for idx in revoked {
        expected.insert(idx.to_string(), serde_json::Value::from(1));
    }
    let status = SignedStatusList::new(URI, list, OffsetDateTime::now_utc());
    let bytes = sign_status_list(&status, &key, [7; 8], &chain()).expect("sign");
    std::fs::write(dir.join("status.cwt"), bytes).expect("write");
    std::fs::write(dir.join("status-spki.der"), key.public_key_spki_der()).expect("write");
    std::fs::write(
        dir.join("status-expected.json"),
        serde_json::to_vec(&expected).expect("json"),
    )
    .expect("write");
}
