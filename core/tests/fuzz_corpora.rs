//! Replays every fuzz target's corpus (`fuzz/corpus/<target>/`) through the target's own check
//! (`fuzz/checks/<target>.rs`, the same code the libFuzzer target runs), so CI exercises each
//! target and keeps every input that once found a bug as a regression test.

#[path = "../../fuzz/checks/client_connection.rs"]
mod client_connection;
#[path = "../../fuzz/checks/endpoint_pair.rs"]
mod endpoint_pair;
#[path = "../../fuzz/checks/http_request.rs"]
mod http_request;
#[path = "../../fuzz/checks/http_response.rs"]
mod http_response;
#[path = "../../fuzz/checks/jsonrpc_decode.rs"]
mod jsonrpc_decode;
#[path = "../../fuzz/checks/server_connection.rs"]
mod server_connection;
#[path = "../../fuzz/checks/session_machines.rs"]
mod session_machines;
#[path = "../../fuzz/checks/sse_decode.rs"]
mod sse_decode;

/// Runs `check` on every file of the target's corpus; the corpus must not be empty.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = format!("{}/../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {dir}: {e}"));
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(&data);
        count += 1;
    }
    assert!(count > 0, "the corpus {dir} is empty");
}

macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), $target::check);
            }
        )*

        /// Every fuzz target (`fuzz/fuzz_targets/*.rs`) is replayed here: a new one that is
        /// not added to the list fails this test instead of going untested.
        #[test]
        fn every_fuzz_target_is_replayed() {
            let dir = format!("{}/../fuzz/fuzz_targets", env!("CARGO_MANIFEST_DIR"));
            let mut targets: Vec<String> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("cannot read {dir}: {e}"))
                .filter_map(|e| {
                    let name = e.ok()?.file_name().into_string().ok()?;
                    name.strip_suffix(".rs").map(str::to_owned)
                })
                .collect();
            targets.sort();
            let mut listed = vec![$(stringify!($target).to_owned()),*];
            listed.sort();
            assert_eq!(targets, listed);
        }
    };
}

// One test per target, named after it (functions and modules live in different namespaces, so
// `$target::check` still names the check module's function).
mod replay_corpus {
    use super::*;
    replay_tests!(
        client_connection,
        endpoint_pair,
        http_request,
        http_response,
        jsonrpc_decode,
        server_connection,
        session_machines,
        sse_decode,
    );
}
