//! DER: a TSTInfo, decoded on its own (the signature check of a token stops random input
//! long before its TSTInfo is read), and its genTime converted.
#![no_main]

use der::Decode as _;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(info) = ccr_pki::tsp::TstInfo::from_der(data) {
        let _ = info.gen_time.instant();
    }
});
