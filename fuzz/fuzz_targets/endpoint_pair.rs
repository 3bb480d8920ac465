#![no_main]

#[path = "../checks/endpoint_pair.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|d: &[u8]| check::check(d));
