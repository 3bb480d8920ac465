//! The `mcp-sse` command line.

use std::process::ExitCode;
use std::sync::Arc;

use mcp_sse::{demo, transcript};
use mcp_sse_core::transport::{self, Security, SecuritySettings};
use mcp_sse_glue::{CallOptions, Client, ClientOptions, ConnectError};
use serde_json::{json, Value};

const USAGE: &str = "usage:
  mcp-sse demo [--runtime smol|tokio] [--trace]
  mcp-sse serve [--bind 127.0.0.1:8000] [--prefix P] [--ping-interval S] [--allow-host H]... [--allow-origin O]... [--no-dns-protection]
  mcp-sse probe URL [-H 'Name: value']...
  mcp-sse call URL TOOL [JSON-ARGS] [-H 'Name: value']...
  mcp-sse sse-decode   (reads an event stream on stdin, writes one JSON object per event)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "demo" => cmd_demo(rest),
        "serve" => cmd_serve(rest),
        "probe" => cmd_probe(rest),
        "call" => cmd_call(rest),
        "sse-decode" => cmd_sse_decode(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("mcp-sse: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn flag_value<'a>(args: &'a [String], i: &mut usize, name: &str) -> Result<&'a str, String> {
    *i += 1;
    args.get(*i)
        .map(String::as_str)
        .ok_or_else(|| format!("{name} needs a value"))
}

fn cmd_demo(args: &[String]) -> Result<(), String> {
    let mut runtime = "smol".to_string();
    let mut trace = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--runtime" => runtime = flag_value(args, &mut i, "--runtime")?.to_string(),
            "--trace" => trace = true,
            other => return Err(format!("unknown demo option {other:?}")),
        }
        i += 1;
    }
    let mut options = demo::client_options();
    options.logging_callback = Some(Arc::new(|params: Value| {
        Box::pin(async move {
            println!(
                "   log {}: {}",
                params["level"].as_str().unwrap_or("?"),
                params["data"]
            );
        })
    }));
    let tracer: Option<mcp_sse_glue::io::TraceFn> = trace.then(|| {
        Arc::new(|dir: &str, bytes: &bytes::Bytes| {
            let text = String::from_utf8_lossy(bytes);
            for l in text.split_inclusive('\n') {
                println!("   {dir} {}", l.escape_debug());
            }
        }) as mcp_sse_glue::io::TraceFn
    });
    println!(
        "mcp-sse demo: client ↔ demo server over HTTP+SSE through in-memory pipes ({runtime})"
    );
    let run = async move |rt: mcp_sse_glue::Rt| -> Result<usize, String> {
        let server = mcp_sse_glue::SseServer::new(
            rt.clone(),
            demo::server(),
            transport::ServerConfig::default(),
            Box::new(mcp_sse_glue::os_random),
        );
        let client = mcp_sse_glue::connect_over_sse_traced(rt, server.clone(), options, tracer)
            .await
            .map_err(|e| e.to_string())?;
        let mut stdout = std::io::stdout();
        let failures = transcript::run(&client, &mut stdout).await;
        client.close().await;
        println!("closed; server sessions left: {}", server.session_count());
        Ok(failures)
    };
    let failures = match runtime.as_str() {
        "smol" => smol::block_on(run(mcp_sse_smol::runtime())),
        "tokio" => tokio_runtime()?.block_on(async { run(mcp_sse_tokio::runtime()).await }),
        other => return Err(format!("unknown runtime {other:?} (smol or tokio)")),
    }?;
    if failures > 0 {
        return Err(format!("{failures} demo step(s) failed"));
    }
    Ok(())
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn cmd_serve(args: &[String]) -> Result<(), String> {
    let mut bind = "127.0.0.1:8000".to_string();
    let mut config = transport::ServerConfig::default();
    let mut hosts = Vec::new();
    let mut origins = Vec::new();
    let mut protection: Option<bool> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--bind" => bind = flag_value(args, &mut i, "--bind")?.to_string(),
            "--prefix" => config.root_path = flag_value(args, &mut i, "--prefix")?.to_string(),
            "--ping-interval" => {
                let s: f64 = flag_value(args, &mut i, "--ping-interval")?
                    .parse()
                    .map_err(|_| "--ping-interval takes seconds")?;
                config.ping_interval = (s > 0.0).then(|| std::time::Duration::from_secs_f64(s));
            }
            "--allow-host" => hosts.push(flag_value(args, &mut i, "--allow-host")?.to_string()),
            "--allow-origin" => {
                origins.push(flag_value(args, &mut i, "--allow-origin")?.to_string())
            }
            "--no-dns-protection" => protection = Some(false),
            other => return Err(format!("unknown serve option {other:?}")),
        }
        i += 1;
    }
    let host = bind
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(&bind)
        .to_string();
    let mut security = SecuritySettings::for_bind_host(&host);
    if !hosts.is_empty() || !origins.is_empty() {
        security.dns_rebinding_protection = true;
        security.allowed_hosts.extend(hosts);
        security.allowed_origins.extend(origins);
    }
    if protection == Some(false) {
        security.dns_rebinding_protection = false;
    }
    config.security = Security::Explicit(security);
    let rt = tokio_runtime()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| format!("bind {bind}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let prefix = config.root_path.trim_end_matches('/').to_string();
        let serving = mcp_sse_tokio::serve(
            listener,
            demo::server(),
            mcp_sse_tokio::ServerOptions { transport: config },
        )
        .map_err(|e| e.to_string())?;
        // Handlers first: a SIGTERM sent as soon as the line below is read must not meet the
        // default action (which kills the process without the clean shutdown).
        let stop = StopSignals::install()?;
        println!("mcp-sse: serving the demo server on http://{addr}{prefix}/sse");
        stop.wait().await;
        eprintln!("mcp-sse: shutting down");
        serving.shutdown().await;
        Ok::<(), String>(())
    })
}

/// SIGTERM and SIGINT (Ctrl-C) handlers, installed when created.
struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs both handlers; a failure is an error (a server that could not be stopped
    /// cleanly, or that stopped at once, would be worse).
    fn install() -> Result<Self, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                term: signal(SignalKind::terminate())
                    .map_err(|e| format!("SIGTERM handler: {e}"))?,
                int: signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    /// Completes at the first SIGTERM or SIGINT.
    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Positional arguments and `-H` headers.
type Parsed = (Vec<String>, Vec<(String, String)>);

fn parse_headers(args: &[String]) -> Result<Parsed, String> {
    let mut positional = Vec::new();
    let mut headers = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "-H" || args[i] == "--header" {
            let h = flag_value(args, &mut i, "-H")?;
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| format!("header {h:?} is not 'Name: value'"))?;
            headers.push((k.trim().to_string(), v.trim().to_string()));
        } else {
            positional.push(args[i].clone());
        }
        i += 1;
    }
    Ok((positional, headers))
}

async fn connect_tcp(url: &str, headers: Vec<(String, String)>) -> Result<Client, String> {
    let config = transport::ClientConfig {
        headers,
        ..Default::default()
    };
    let options = ClientOptions {
        read_timeout: Some(std::time::Duration::from_secs(30)),
        ..ClientOptions::default()
    };
    mcp_sse_tokio::connect_with(url, options, config)
        .await
        .map_err(|e: ConnectError| format!("cannot connect to {url}: {e}"))
}

fn cmd_probe(args: &[String]) -> Result<(), String> {
    let (pos, headers) = parse_headers(args)?;
    let [url] = pos.as_slice() else {
        return Err("usage: mcp-sse probe URL [-H 'Name: value']...".into());
    };
    tokio_runtime()?.block_on(async move {
        let client = connect_tcp(url, headers).await?;
        let init = client.initialize_result().unwrap_or(Value::Null);
        println!("server:       {}", init["serverInfo"]);
        println!("protocol:     {}", init["protocolVersion"]);
        println!("capabilities: {}", init["capabilities"]);
        if let Some(i) = init.get("instructions") {
            println!("instructions: {i}");
        }
        let caps = &init["capabilities"];
        for (cap, method, key) in [
            ("tools", "tools/list", "tools"),
            ("resources", "resources/list", "resources"),
            ("prompts", "prompts/list", "prompts"),
        ] {
            if caps.get(cap).is_none() {
                continue;
            }
            match client.request(method, None, CallOptions::default()).await {
                Ok(v) => {
                    println!("{key}:");
                    for item in v[key].as_array().into_iter().flatten() {
                        let name = item
                            .get("name")
                            .or_else(|| item.get("uri"))
                            .cloned()
                            .unwrap_or(Value::Null);
                        let desc = item
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        println!(
                            "  - {} {}",
                            name.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| name.to_string()),
                            desc
                        );
                    }
                }
                Err(e) => println!("{key}: error {} {}", e.code, e.message),
            }
        }
        client.close().await;
        Ok(())
    })
}

fn cmd_call(args: &[String]) -> Result<(), String> {
    let (pos, headers) = parse_headers(args)?;
    let (url, tool, json_args) = match pos.as_slice() {
        [u, t] => (u, t, json!({})),
        [u, t, a] => (
            u,
            t,
            serde_json::from_str::<Value>(a).map_err(|e| format!("JSON-ARGS: {e}"))?,
        ),
        _ => return Err("usage: mcp-sse call URL TOOL [JSON-ARGS]".into()),
    };
    tokio_runtime()?.block_on(async move {
        let client = connect_tcp(url, headers).await?;
        let params = json!({"name": tool, "arguments": json_args});
        let Value::Object(params) = params else {
            return Err("bad params".into());
        };
        let result = client
            .request("tools/call", Some(params), CallOptions::default())
            .await;
        client.close().await;
        match result {
            Ok(v) => {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                if v["isError"] == json!(true) {
                    return Err(format!("tool {tool} returned isError"));
                }
                Ok(())
            }
            Err(e) => Err(format!(
                "error {}: {}{}",
                e.code,
                e.message,
                e.data.map(|d| format!(" ({d})")).unwrap_or_default()
            )),
        }
    })
}

fn cmd_sse_decode(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err("sse-decode takes no arguments".into());
    }
    mcp_sse::sse_decode::run().map_err(|e| e.to_string())
}
