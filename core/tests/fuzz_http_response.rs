//! Replays every file of `fuzz/corpus/http_response/` through the `http_response` fuzz check, so CI exercises
//! the fuzz target without libFuzzer.

#[path = "../../fuzz/checks/http_response.rs"]
mod check;

#[test]
fn replay_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/http_response");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus directory {} is missing: {e}", dir.display()));
    let mut replayed = 0;
    for entry in entries {
        let path = entry.expect("readable corpus directory").path();
        if path.is_file() {
            let data = std::fs::read(&path).expect("readable corpus file");
            check::check(&data);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "corpus directory {} is empty", dir.display());
}
