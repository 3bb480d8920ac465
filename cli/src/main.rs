//! The `mcp-sse` command line.

fn main() {
    eprintln!("usage: mcp-sse <command>");
    std::process::exit(2);
}
