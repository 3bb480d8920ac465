//! The `mcp-sse` command line.

mod sse_decode;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("sse-decode") => sse_decode::run(),
        _ => {
            eprintln!("usage: mcp-sse <command>\n\ncommands:\n  sse-decode   decode a text/event-stream from stdin to JSON lines");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("mcp-sse: {e}");
        std::process::exit(1);
    }
}
