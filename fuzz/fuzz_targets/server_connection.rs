#![no_main]

#[path = "../checks/server_connection.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|d: &[u8]| check::check(d));
