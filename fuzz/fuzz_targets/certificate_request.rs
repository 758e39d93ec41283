//! The certificate request JSON (SPEC §6): parsed, then validated against the default
//! configuration (names, scripts, dates, documents, usages, records).
#![no_main]

use std::sync::OnceLock;

use ccr_issuer::rules::request::CertificateRequest;
use ccr_issuer::setup::config::{Config, default_toml};

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::from_toml(&default_toml("https://ccr.example")).expect("default config")
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(request) = CertificateRequest::from_json(data) {
        let config = config();
        let _ = request.validate(config, &config.departments, ccr_fuzz::AT);
    }
});
