#![no_main]

#[path = "../checks/jsonrpc_decode.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|d: &[u8]| check::check(d));
