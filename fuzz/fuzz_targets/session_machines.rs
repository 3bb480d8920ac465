#![no_main]

#[path = "../checks/session_machines.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|d: &[u8]| check::check(d));
