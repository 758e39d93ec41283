//! Render time per certificate, fonts loaded once: `cargo bench -p ccr-issuer --bench render`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use ccr_issuer::issuance::render::{PageExtras, Renderer, sample};
use criterion::{Criterion, criterion_group, criterion_main};

fn token_url() -> String {
    let mut url = "http://127.0.0.1:8080/verify#".to_owned();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for i in 0..260_usize {
        url.push(char::from(alphabet[(i * 37 + i / 7) % 64]));
    }
    url
}

fn bench_render(c: &mut Criterion) {
    let renderer = Renderer::new().unwrap();
    let url = token_url();
    let extras = PageExtras {
        token_url: &url,
        verify_hint_url: "http://127.0.0.1:8081/",
        signer_name: "DSI Document Signing (development)",
    };
    let plain = sample::sample_certificate();
    let vietnamese = sample::sample_certificate_named(sample::VIETNAMESE_NAME, None);
    let records = sample::sample_with_records(3);
    c.bench_function("render/nothing_on_record", |b| {
        b.iter(|| {
            renderer
                .render(black_box(&plain), black_box(&extras))
                .unwrap()
        })
    });
    c.bench_function("render/vietnamese_name", |b| {
        b.iter(|| {
            renderer
                .render(black_box(&vietnamese), black_box(&extras))
                .unwrap()
        })
    });
    c.bench_function("render/three_records", |b| {
        b.iter(|| {
            renderer
                .render(black_box(&records), black_box(&extras))
                .unwrap()
        })
    });
    c.bench_function("check_coverage", |b| {
        b.iter(|| renderer.check_coverage(black_box(&plain)).unwrap())
    });
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
