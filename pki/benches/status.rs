//! Benchmarks of issue 3, must-show 5: QR-token verification against one bare P-256
//! verification, and status list encode/sign and fetch/decode at realistic sizes.
//!
//! Run with `cargo bench -p ccr-pki --bench status`. Sizes are printed once per case before
//! its group runs.

use std::hint::black_box;
use std::time::Duration;

use ccr_pki::document::{DocumentType, MaskedDocument, StatusReference};
use ccr_pki::hierarchy::{GeneratedHierarchy, HierarchyNames, generate_hierarchy};
use ccr_pki::signer::{FileKey, SignatureEncoding, Signer as _};
use ccr_pki::status_list::{
    SignedStatusList, Status, StatusList, parse_status_list, sign_status_list,
};
use ccr_pki::token::{self, TokenClaims, kid_for_certificate};
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use time::OffsetDateTime;
use time::macros::{date, datetime};

const STATUS_URI: &str = "https://ccr.dsi.gov.mo/status/1";

/// List lengths of SPEC §4 (the minimum) and 8× it.
const LENGTHS: [u32; 2] = [131_072, 1_048_576];

/// Revoked fractions, in tenths of a percent (0.1 %, 1 %, 5 %).
const REVOKED_PER_MILLE: [u32; 3] = [1, 10, 50];

/// The instant every benchmark signs at (fixed so runs are comparable).
const SIGNED_AT: OffsetDateTime = datetime!(2026-11-03 02:15:30 UTC);

/// A development hierarchy: the token signer's key and its two-certificate chain.
struct Fixture {
    key: FileKey,
    kid: [u8; token::KID_LEN],
    chain: Vec<Vec<u8>>,
}

impl Fixture {
    fn new() -> Self {
        let GeneratedHierarchy {
            issuing_ca,
            token_signer,
            ..
        } = generate_hierarchy(
            &HierarchyNames::development(),
            "https://ccr.dsi.gov.mo",
            SIGNED_AT,
        )
        .expect("generate hierarchy");
        let key = FileKey::from_pkcs8(&token_signer.pkcs8).expect("token signer key");
        let kid = kid_for_certificate(&token_signer.certificate_der).expect("kid");
        Self {
            key,
            kid,
            chain: vec![token_signer.certificate_der, issuing_ca.certificate_der],
        }
    }
}

/// A tiny deterministic PRNG (xorshift64) so that every run revokes the same indexes.
struct XorShift64(u64);

impl XorShift64 {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..bound` (the modulo bias is irrelevant here).
    fn below(&mut self, bound: u32) -> u32 {
        u32::try_from(self.next() % u64::from(bound)).expect("below a u32 bound")
    }
}

/// A list of `len` entries with `len * per_mille / 1000` distinct random indexes revoked.
fn filled_list(len: u32, per_mille: u32) -> StatusList {
    let mut list = StatusList::new(len).expect("list");
    let mut rng = XorShift64(0x9E37_79B9_7F4A_7C15 ^ (u64::from(len) << 8) ^ u64::from(per_mille));
    let target = u64::from(len) * u64::from(per_mille) / 1000;
    let mut revoked = 0;
    while revoked < target {
        let idx = rng.below(len);
        if list.get(idx) == Some(Status::Valid) {
            list.set(idx, Status::Revoked).expect("set");
            revoked += 1;
        }
    }
    list
}

/// The claims of a typical certificate's token.
fn typical_claims() -> TokenClaims {
    TokenClaims {
        number: "CCR-2026-000123".to_owned(),
        name_latin: "CHAN TAI MAN".to_owned(),
        name_chinese: Some("陳大文".to_owned()),
        date_of_birth: date!(1990 - 01 - 31),
        document: MaskedDocument {
            kind: DocumentType::Bir,
            last3: "(8)".to_owned(),
        },
        usage: "EMPLOYMENT".to_owned(),
        record_result: 0,
        transfer_to: None,
        issued_at: datetime!(2026-11-03 02:15:30 UTC),
        expires_at: datetime!(2027-02-03 15:59:59 UTC),
        status: StatusReference {
            uri: STATUS_URI.to_owned(),
            idx: 723_411,
        },
        digest: [0x5a; 16],
    }
}

fn bench_token(c: &mut Criterion, fx: &Fixture) {
    let claims = typical_claims();
    let bytes = token::sign(&claims, &fx.key, fx.kid).expect("sign token");
    let spki = fx.key.public_key_spki_der().to_vec();
    let point = ccr_pki::x509::spki_ec_point(&spki).expect("EC point");
    // A bare signature over a message of the token's size, for comparison.
    let message = vec![0xa5u8; bytes.len()];
    let signature = fx
        .key
        .sign(&message, SignatureEncoding::Fixed)
        .expect("sign message");
    assert_eq!(
        token::parse(&bytes)
            .and_then(|t| t.verify(&spki))
            .expect("token verifies"),
        claims
    );
    println!(
        "token: {} bytes ({} chars as base64url)",
        bytes.len(),
        token::to_url("", &bytes).len() - 1
    );

    let mut group = c.benchmark_group("token");
    group.bench_function("parse", |b| {
        b.iter(|| token::parse(black_box(&bytes)).expect("parse"));
    });
    group.bench_function("parse+verify", |b| {
        b.iter(|| {
            token::parse(black_box(&bytes))
                .and_then(|t| t.verify(black_box(&spki)))
                .expect("verify")
        });
    });
    group.bench_function("ring P-256 verify", |b| {
        b.iter(|| {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, black_box(&point))
                .verify(black_box(&message), black_box(&signature))
                .expect("verify")
        });
    });
    group.finish();
}

fn bench_status_lists(c: &mut Criterion, fx: &Fixture) {
    let spki = fx.key.public_key_spki_der().to_vec();
    for len in LENGTHS {
        for per_mille in REVOKED_PER_MILLE {
            let list = filled_list(len, per_mille);
            let lst_len = list.compress().expect("compress").len();
            let signed = sign_status_list(
                &SignedStatusList::new(STATUS_URI, list.clone(), SIGNED_AT),
                &fx.key,
                fx.kid,
                &fx.chain,
            )
            .expect("sign list");
            // The index a verifier looks up: a revoked one, so `get` sees a real entry.
            let probe = (0..len)
                .find(|&i| list.get(i) == Some(Status::Revoked))
                .expect("a revoked entry");
            let case = format!("{len}/{}.{}%", per_mille / 10, per_mille % 10);
            println!(
                "status list {case}: raw {} B, lst (zlib) {lst_len} B, signed CWT {} B \
                 (chain {} B)",
                list.as_bytes().len(),
                signed.len(),
                fx.chain.iter().map(Vec::len).sum::<usize>()
            );

            let mut group = c.benchmark_group("status_list");
            group.sampling_mode(SamplingMode::Flat);
            group.bench_with_input(BenchmarkId::new("encode+sign", &case), &list, |b, list| {
                b.iter_batched(
                    || list.clone(),
                    |list| {
                        sign_status_list(
                            &SignedStatusList::new(STATUS_URI, list, SIGNED_AT),
                            &fx.key,
                            fx.kid,
                            &fx.chain,
                        )
                        .expect("sign")
                    },
                    BatchSize::LargeInput,
                );
            });
            group.bench_with_input(
                BenchmarkId::new("fetch+decode", &case),
                &signed,
                |b, signed| {
                    b.iter(|| {
                        let verified = parse_status_list(black_box(signed), len)
                            .and_then(|p| p.verify(black_box(&spki)))
                            .expect("parse and verify");
                        assert_eq!(verified.list.get(black_box(probe)), Some(Status::Revoked));
                        verified
                    });
                },
            );
            group.finish();
        }
    }
}

fn benches(c: &mut Criterion) {
    let fx = Fixture::new();
    bench_token(c, &fx);
    bench_status_lists(c, &fx);
}

criterion_group! {
    name = status;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(status);
