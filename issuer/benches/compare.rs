//! Our side of the side-by-side benchmark with pyHanko (issue 15, `benches/compare/`): the
//! same certificate PDFs verified in-process (`check_pdf`, every check, status list given),
//! and PAdES B-T signing (CMS with ECDSA P-256 + an in-process RFC 3161 time-stamp, the
//! document signer's and the TSA's keys) of one unsigned PDF.
//!
//! Not run alone: `benches/compare/run.sh` runs it, then pyHanko on the files it writes.
//! `cargo bench -p ccr-issuer --bench compare -- OUT_DIR [VERIFY_RUNS] [SIGN_RUNS]` writes
//! `OUT_DIR/home` (the issuer home whose keys pyHanko uses too), `OUT_DIR/pdfs/*.pdf`,
//! `OUT_DIR/unsigned.pdf` and `OUT_DIR/ours.json` (every run's milliseconds).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

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

/// Certificates verified (each run takes the next, round robin).
const CERTIFICATES: usize = 5;

fn millis(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(out) = args.first().map(PathBuf::from) else {
        eprintln!(
            "usage: cargo bench -p ccr-issuer --bench compare -- OUT_DIR [VERIFY_RUNS] [SIGN_RUNS]"
        );
        std::process::exit(2);
    };
    let verify_runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let sign_runs: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    std::fs::create_dir_all(out.join("pdfs")).expect("out dir");

    let home = Home::locate(Some(out.join("home")));
    let now = OffsetDateTime::now_utc();
    if !out.join("home").exists() {
        home.init("http://127.0.0.1:8080", now).expect("init");
    }
    let engine = Engine::new(
        home.load_pki().expect("pki"),
        "http://127.0.0.1:8080/verify",
    )
    .expect("engine");
    let mut data = sample_certificate();
    data.issued_at = now.replace_nanosecond(0).expect("whole seconds");
    data.valid_until = ccr_pki::validity::valid_until(data.issued_at);

    let pki = engine.pki();
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
    let mut pdfs = Vec::new();
    for i in 0..CERTIFICATES {
        let signed = engine.produce(&data, now).expect("produce");
        assert_eq!(
            check_pdf(&signed.pdf, &ctx).verdict,
            Verdict::Valid,
            "the benchmarked PDF must verify"
        );
        std::fs::write(out.join(format!("pdfs/cert-{i}.pdf")), &signed.pdf).expect("write");
        pdfs.push(signed);
    }

    // Verification: every check, in-process.
    for signed in &pdfs {
        black_box(check_pdf(&signed.pdf, &ctx));
    }
    let verify: Vec<f64> = (0..verify_runs)
        .map(|i| {
            let pdf = &pdfs[i % pdfs.len()].pdf;
            let start = Instant::now();
            black_box(check_pdf(black_box(pdf), &ctx));
            millis(start)
        })
        .collect();

    // B-T signing of one unsigned PDF with the document signer's P-256 key and the TSA's.
    let renderer = Renderer::new().expect("fonts");
    let url = ccr_pki::token::to_url("http://127.0.0.1:8080/verify", &pdfs[0].token);
    let extras = PageExtras {
        token_url: &url,
        verify_hint_url: "http://127.0.0.1:8080/verify",
        signer_name: "DSI",
    };
    let unsigned = renderer.render(&data, &extras).expect("render");
    std::fs::write(out.join("unsigned.pdf"), &unsigned).expect("write");
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
        certificate_json: &pdfs[0].data_json,
        token: &pdfs[0].token,
    };
    let sign = || {
        pades::sign_pdf(
            &unsigned,
            &signer,
            now,
            &embedded,
            pades::DEFAULT_CONTENTS_RESERVE,
        )
        .expect("sign")
    };
    std::fs::write(out.join("signed-by-us.pdf"), sign()).expect("write");
    let signing: Vec<f64> = (0..sign_runs)
        .map(|_| {
            let start = Instant::now();
            black_box(sign());
            millis(start)
        })
        .collect();

    let json = format!(
        "{{\"verify_in_process_ms\": {verify:?}, \"sign_bt_in_process_ms\": {signing:?}}}\n"
    );
    std::fs::write(out.join("ours.json"), json).expect("write ours.json");
    println!(
        "ours: {} verifications, {} B-T signatures; wrote {}",
        verify.len(),
        signing.len(),
        out.join("ours.json").display()
    );
}
