//! Issuance and verification costs per certificate (issue 2, must-show 5):
//! full issuance (render + token + PAdES B-T + B-LT), the signing step alone, verification of
//! one PDF, and the PDF's size. Run: `cargo bench -p ccr-issuer --bench pipeline`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use time::OffsetDateTime;

use ccr_issuer::issuance::engine::Engine;
use ccr_issuer::issuance::render::sample::sample_certificate;
use ccr_issuer::issuance::render::{PageExtras, Renderer};
use ccr_issuer::setup::home::Home;
use ccr_pki::chain::TrustRoot;
use ccr_pki::pades::{self, EmbeddedData, PadesSigner};
use ccr_pki::pdf::Limits;
use ccr_pki::status_list::{SignedStatusList, StatusList};
use ccr_pki::tsp::Tsa;
use ccr_verifier::check::{CheckContext, StatusInput, check_pdf};
use ccr_verifier::report::Verdict;

fn pipeline(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = Home::locate(Some(dir.path().join("home")));
    let now = OffsetDateTime::now_utc();
    home.init("http://127.0.0.1:8080", now).expect("init");
    let engine = Engine::new(
        home.load_pki().expect("pki"),
        "http://127.0.0.1:8080/verify",
    )
    .expect("engine");
    let mut data = sample_certificate();
    data.issued_at = now.replace_nanosecond(0).expect("whole seconds");
    data.valid_until = ccr_pki::validity::valid_until(data.issued_at);

    let signed = engine.produce(&data, now).expect("produce");
    println!(
        "PDF size: {} bytes; token: {} bytes",
        signed.pdf.len(),
        signed.token.len()
    );

    let mut group = c.benchmark_group("issuance");
    group.bench_function("full (render + token + B-T + B-LT)", |b| {
        b.iter(|| black_box(engine.produce(black_box(&data), now).expect("produce")))
    });
    let renderer = Renderer::new().expect("fonts");
    let url = ccr_pki::token::to_url("http://127.0.0.1:8080/verify", &signed.token);
    let extras = PageExtras {
        token_url: &url,
        verify_hint_url: "http://127.0.0.1:8080/verify",
        signer_name: "DSI",
    };
    group.bench_function("render only", |b| {
        b.iter(|| black_box(renderer.render(&data, &extras).expect("render")))
    });
    let unsigned = renderer.render(&data, &extras).expect("render");
    let pki = engine.pki();
    let chain = [pki.issuing_ca.clone()];
    let tsa = Tsa {
        certificate: &pki.tsa,
        chain: &chain,
        key: &*pki.tsa_key,
    };
    let signer = PadesSigner {
        certificate: &pki.document_signer,
        chain: &chain,
        key: &*pki.document_signer_key,
        timestamp: &tsa,
    };
    let embedded = EmbeddedData {
        certificate_json: &signed.data_json,
        token: &signed.token,
    };
    group.bench_function("signing step (CMS + time stamp, B-T)", |b| {
        b.iter(|| {
            black_box(
                pades::sign_pdf(
                    &unsigned,
                    &signer,
                    now,
                    &embedded,
                    pades::DEFAULT_CONTENTS_RESERVE,
                )
                .expect("sign"),
            )
        })
    });
    group.finish();

    let root = TrustRoot::from_der(pki.root_der.clone()).expect("root");
    let list = SignedStatusList::new(
        data.status.uri.clone(),
        StatusList::new(131_072).expect("list"),
        now,
    );
    let limits = Limits::default();
    let ctx = CheckContext {
        root: &root,
        status: StatusInput::List(&list),
        at: now,
        limits: &limits,
        windows: &[],
    };
    assert_eq!(
        check_pdf(&signed.pdf, &ctx).verdict,
        Verdict::Valid,
        "the benchmarked PDF must verify"
    );
    c.bench_function("verification/pdf (all checks, status list given)", |b| {
        b.iter(|| black_box(check_pdf(black_box(&signed.pdf), &ctx)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = pipeline
}
criterion_main!(benches);
