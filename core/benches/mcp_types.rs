//! Parse/serialize cost of typed MCP messages (the `mcp` module), on captured payloads.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mcp_sse_core::mcp::{CallToolResult, CreateMessageRequestParams, ListToolsResult};
use serde_json::Value;

/// The Part B `tools/list` result, read from the shared capture (project-relative path).
fn tools_list_json() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/spec/wire-capture.txt"
    );
    let capture = std::fs::read_to_string(path).expect("wire capture");
    let line = capture
        .lines()
        .find(|l| l.starts_with("data: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\""))
        .expect("Part B tools/list frame");
    let body = line.trim_start_matches("data: ").trim_end_matches("\\r\\n");
    let frame: Value = serde_json::from_str(body).expect("json");
    serde_json::to_string(&frame["result"]).expect("json")
}

fn bench(c: &mut Criterion) {
    let tools = tools_list_json();
    let mut g = c.benchmark_group("mcp_types");
    g.throughput(Throughput::Bytes(tools.len() as u64));
    g.bench_function("tools_list_parse", |b| {
        b.iter(|| serde_json::from_str::<ListToolsResult>(std::hint::black_box(&tools)).unwrap())
    });
    g.bench_function("tools_list_parse_value_baseline", |b| {
        b.iter(|| serde_json::from_str::<Value>(std::hint::black_box(&tools)).unwrap())
    });
    let typed: ListToolsResult = serde_json::from_str(&tools).unwrap();
    g.bench_function("tools_list_serialize", |b| {
        b.iter(|| serde_json::to_string(std::hint::black_box(&typed)).unwrap())
    });

    let call = r#"{"content":[{"text":"hi \u00e9\n\"q\"","type":"text"},{"type":"image","data":"iVBORw0KGgo=","mimeType":"image/png"}],"isError":false,"structuredContent":{"result":"hi"}}"#;
    g.throughput(Throughput::Bytes(call.len() as u64));
    g.bench_function("call_tool_result_parse", |b| {
        b.iter(|| serde_json::from_str::<CallToolResult>(std::hint::black_box(call)).unwrap())
    });
    let sampling =
        r#"{"messages":[{"role":"user","content":{"type":"text","text":"hello"}}],"maxTokens":32}"#;
    g.throughput(Throughput::Bytes(sampling.len() as u64));
    g.bench_function("create_message_params_parse", |b| {
        b.iter(|| {
            serde_json::from_str::<CreateMessageRequestParams>(std::hint::black_box(sampling))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
