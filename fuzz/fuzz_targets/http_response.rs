#![no_main]
#[path = "../checks/http_response.rs"]
mod check;
libfuzzer_sys::fuzz_target!(|d: &[u8]| check::check(d));
