//! Replays the `jsonrpc_decode` fuzz corpus through the fuzz target's own check, so CI exercises the
//! target without libFuzzer.

#[path = "../../fuzz/checks/jsonrpc_decode.rs"]
mod check;

#[test]
fn replay_jsonrpc_decode_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/jsonrpc_decode");
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {dir}: {e}"));
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check::check(&data);
        count += 1;
    }
    assert!(count > 0, "the corpus {dir} is empty");
}
