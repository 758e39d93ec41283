//! Issue 14, must-show 5: signatures per second through PKCS#11 (SoftHSM2) against file keys.
//!
//! Needs a token made beforehand, named by the environment (`benches/hsm/run.sh` does it):
//! `SOFTHSM2_CONF`, `CCR_BENCH_TOKEN` (label) and `CCR_BENCH_PIN`. Without them it says so
//! and measures nothing.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use ccr_pki::signer::pkcs11::Token;
use ccr_pki::signer::{Ed25519FileKey, FileKey, KeyAlgorithm, SignatureEncoding, Signer};
use criterion::{Criterion, criterion_group, criterion_main};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// A typical signed message: the CMS signed attributes of a PAdES signature are ~200 bytes.
const MESSAGE: [u8; 256] = [0x5a; 256];

fn bench(c: &mut Criterion) {
    let (Some(label), Some(pin), Some(_)) = (
        std::env::var_os("CCR_BENCH_TOKEN"),
        std::env::var("CCR_BENCH_PIN").ok(),
        std::env::var_os("SOFTHSM2_CONF"),
    ) else {
        eprintln!(
            "pkcs11 bench: run benches/hsm/run.sh (needs SOFTHSM2_CONF, CCR_BENCH_TOKEN, CCR_BENCH_PIN)"
        );
        return;
    };
    let token =
        Token::open(Path::new(MODULE), &label.to_string_lossy(), &pin.into()).expect("token");
    let hsm_p256: Arc<dyn Signer> =
        Arc::new(token.generate(KeyAlgorithm::EcdsaP256Sha256).expect("p256"));
    let hsm_ed: Arc<dyn Signer> = Arc::new(token.generate(KeyAlgorithm::Ed25519).expect("ed"));
    let file_p256: Arc<dyn Signer> = Arc::new(FileKey::generate().expect("file").0);
    let file_ed: Arc<dyn Signer> = Arc::new(Ed25519FileKey::generate().expect("file").0);
    let mut group = c.benchmark_group("sign");
    for (name, key, encoding) in [
        ("p256-der/file", &file_p256, SignatureEncoding::Der),
        ("p256-der/pkcs11", &hsm_p256, SignatureEncoding::Der),
        ("ed25519/file", &file_ed, SignatureEncoding::Fixed),
        ("ed25519/pkcs11", &hsm_ed, SignatureEncoding::Fixed),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| key.sign(black_box(&MESSAGE), encoding).expect("sign"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
