//! The status list: the CWT, its chain and signature (against the seeds' anchor), and the
//! compressed bit string on its own.
#![no_main]

use ccr_pki::status_list::{StatusList, parse_status_list};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(list) = parse_status_list(data, 1 << 20) {
        let _ = list.uri_unverified();
        let _ = list.kid();
    }
    if let Ok(list) = ccr_verifier::status::authenticate(data, ccr_fuzz::root()) {
        let _ = list.list.get(0);
        let _ = list.list.get(list.list.len().saturating_sub(1));
    }
    if let Ok(list) = StatusList::decompress(data, 1 << 20) {
        let _ = list.get(list.len() / 2);
    }
});
