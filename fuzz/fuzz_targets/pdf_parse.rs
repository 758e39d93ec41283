//! The PDF reader: parse, then walk every object of every revision (`pdf::fuzz_parse`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ccr_pki::pdf::fuzz_parse(data);
});
