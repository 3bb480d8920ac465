#![no_main]

#[path = "../checks/client_connection.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|d: &[u8]| check::check(d));
