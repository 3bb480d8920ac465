//! The `mcp-sse` command line.
//!
//! Exit codes: 0 success (also when stdout was closed early, as in `mcp-sse probe URL | head -1`),
//! 1 the server answered with an error (or a tool returned `isError`) or a demo step failed,
//! 2 bad usage, 3 the server could not be reached or the connection failed.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use mcp_sse::{demo, transcript};
use mcp_sse_core::transport::{self, Security, SecuritySettings};
use mcp_sse_glue::tls::{TlsClient, TlsServer};
use mcp_sse_glue::{CallOptions, Client, ClientOptions};
use serde_json::{json, Value};

/// The legacy MCP HTTP+SSE transport: an in-process demo, a demo server, and a client.
#[derive(Debug, Parser)]
#[command(
    name = "mcp-sse",
    version,
    about,
    propagate_version = true,
    after_help = "Exit codes: 0 success (also when stdout is closed early); 1 the server answered \
                  with an error or a tool with isError; 2 bad usage; 3 could not connect."
)]
struct Cli {
    /// Logs what the library does to stderr: -v sessions and requests (info), -vv each
    /// request's outcome and duration (debug). RUST_LOG (e.g. `mcp_sse=debug`) overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// Installs the stderr logger for `-v`/`RUST_LOG` (nothing is installed without either).
#[cfg(feature = "tracing")]
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let from_env = std::env::var_os("RUST_LOG").is_some();
    if verbose == 0 && !from_env {
        return;
    }
    let filter = if from_env {
        EnvFilter::from_default_env()
    } else {
        EnvFilter::new(match verbose {
            1 => "mcp_sse=info",
            2 => "mcp_sse=debug",
            _ => "mcp_sse=trace",
        })
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Without the `tracing` feature, `-v` has nothing to show.
#[cfg(not(feature = "tracing"))]
fn init_logging(verbose: u8) {
    if verbose > 0 {
        eprintln!("mcp-sse: built without the `tracing` feature; -v shows nothing");
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a client against the demo server over real HTTP+SSE bytes through in-memory pipes.
    Demo {
        /// The executor to run on.
        #[arg(long, value_enum, default_value_t = Runtime::Smol)]
        runtime: Runtime,
        /// Also prints every HTTP and SSE byte crossing the pipe.
        #[arg(long)]
        trace: bool,
    },
    /// Serves the demo server over TCP until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Connects to a legacy SSE server and lists what it offers.
    Probe {
        /// The server's SSE URL (`http://host:port/sse`).
        url: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Calls one tool and prints its result.
    Call {
        /// The server's SSE URL (`http://host:port/sse`).
        url: String,
        /// The tool's name.
        tool: String,
        /// The tool's arguments, a JSON object.
        #[arg(default_value = "{}")]
        args: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Reads an event stream on stdin and writes one JSON object per dispatched event.
    SseDecode,
}

/// What `probe` and `call` share.
#[derive(Debug, clap::Args)]
struct ClientArgs {
    /// Adds a header to every request (`'Name: value'`, repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Seconds each request may take.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Seconds connecting may take, until the server answers the GET.
    #[arg(long, default_value_t = 10.0)]
    connect_timeout: f64,
    /// Prints one JSON document instead of text, for scripts.
    #[arg(long)]
    json: bool,
    /// Also trusts the CA certificates in this PEM file on https:// URLs.
    #[arg(long, value_name = "FILE")]
    cacert: Option<std::path::PathBuf>,
    /// Sends `Authorization: Bearer TOKEN` on the GET and every POST.
    #[arg(long, value_name = "TOKEN")]
    bearer_token: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Runtime {
    Smol,
    Tokio,
}

fn parse_header(h: &str) -> Result<(String, String), String> {
    let (k, v) = h
        .split_once(':')
        .ok_or_else(|| format!("header {h:?} is not 'Name: value'"))?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

fn seconds(s: f64, what: &str) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| Failure::Usage(format!("{what} takes a number of seconds, not {s}")))
}

/// Why a command failed, and so its exit code.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The arguments were wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The server could not be reached or the connection broke (exit 3).
    #[error("{0}")]
    Connect(String),
    /// The server answered with an error, a tool with `isError`, or a step failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// Stdout was closed by its reader: not an error (exit 0, nothing printed).
    #[error("stdout closed")]
    StdoutClosed,
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::StdoutClosed => 0,
            Failure::Failed(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Connect(_) => 3,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::StdoutClosed
        } else {
            Failure::Failed(e.to_string())
        }
    }
}

/// Writes one line to stdout; a closed stdout is [`Failure::StdoutClosed`], never a panic.
fn say(text: impl std::fmt::Display) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Demo { runtime, trace } => cmd_demo(runtime, trace),
        Command::Serve(args) => cmd_serve(args),
        Command::Probe { url, client } => cmd_probe(&url, client),
        Command::Call {
            url,
            tool,
            args,
            client,
        } => cmd_call(&url, &tool, &args, client),
        Command::SseDecode => mcp_sse::sse_decode::run().map_err(Failure::from),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !matches!(f, Failure::StdoutClosed) {
                eprintln!("mcp-sse: {f}");
            }
            ExitCode::from(f.exit_code())
        }
    }
}

fn cmd_demo(runtime: Runtime, trace: bool) -> Result<(), Failure> {
    let mut options = demo::client_options();
    options.logging_callback = Some(Arc::new(|params: Value| {
        Box::pin(async move {
            let _ = say(format!(
                "   log {}: {}",
                params["level"].as_str().unwrap_or("?"),
                params["data"]
            ));
        })
    }));
    let tracer: Option<mcp_sse_glue::io::TraceFn> = trace.then(|| {
        Arc::new(|dir: &str, bytes: &bytes::Bytes| {
            let text = String::from_utf8_lossy(bytes);
            for l in text.split_inclusive('\n') {
                let _ = say(format!("   {dir} {}", l.escape_debug()));
            }
        }) as mcp_sse_glue::io::TraceFn
    });
    let name = match runtime {
        Runtime::Smol => "smol",
        Runtime::Tokio => "tokio",
    };
    say(format!(
        "mcp-sse demo: client ↔ demo server over HTTP+SSE through in-memory pipes ({name})"
    ))?;
    let run = async move |rt: mcp_sse_glue::Rt| -> Result<usize, Failure> {
        let server = mcp_sse_glue::SseServer::new(
            rt.clone(),
            demo::server(),
            transport::ServerConfig::default(),
            Box::new(mcp_sse_glue::os_random),
        );
        let client = mcp_sse_glue::connect_over_sse_traced(rt, server.clone(), options, tracer)
            .await
            .map_err(|e| Failure::Connect(e.to_string()))?;
        let mut stdout = std::io::stdout();
        let failures = transcript::run(&client, &mut stdout).await;
        client.close().await;
        say(format!(
            "closed; server sessions left: {}",
            server.session_count()
        ))?;
        Ok(failures)
    };
    let failures = match runtime {
        Runtime::Smol => smol::block_on(run(mcp_sse_smol::runtime())),
        Runtime::Tokio => tokio_runtime()?.block_on(async { run(mcp_sse_tokio::runtime()).await }),
    }?;
    if failures > 0 {
        return Err(Failure::Failed(format!("{failures} demo step(s) failed")));
    }
    Ok(())
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Failed(format!("cannot start the tokio runtime: {e}")))
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free one; the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8000")]
    bind: String,
    /// Mount prefix (the SSE URL becomes PREFIX/sse).
    #[arg(long, default_value = "")]
    prefix: String,
    /// Seconds between keep-alive comments on each stream (0: none).
    #[arg(long, default_value_t = 15.0)]
    ping_interval: f64,
    /// Also allows this Host header (repeatable; turns DNS-rebinding protection on).
    #[arg(long = "allow-host", value_name = "HOST")]
    allow_hosts: Vec<String>,
    /// Also allows this Origin header (repeatable; turns DNS-rebinding protection on).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
    /// Turns DNS-rebinding protection off (it is on when binding a loopback address).
    #[arg(long)]
    no_dns_protection: bool,
    /// Seconds a shutdown waits for sessions to finish before cutting them; a second
    /// signal cuts them at once.
    #[arg(long, default_value_t = 10.0)]
    shutdown_grace: f64,
    /// Serves HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Requires `Authorization: Bearer TOKEN` on every GET and POST (401 and a
    /// `WWW-Authenticate: Bearer` challenge otherwise).
    #[arg(long, value_name = "TOKEN")]
    bearer_token: Option<String>,
    /// Lets a browser page from this origin use the server (CORS; repeatable; `*` for
    /// any). The transport lets an allowed origin past the Origin check.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Scales out on this Redis (`redis://HOST:PORT[/DB]`): instances sharing it (and the
    /// prefix) share one session space behind any load balancer; a POST for a session another
    /// instance holds is forwarded to it.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// This instance's name on the bus (A-Z a-z 0-9 - _ .; default: random). Unique per
    /// instance.
    #[arg(long, value_name = "NAME", requires = "redis")]
    instance: Option<String>,
    /// Prefix of the Redis keys and channels, so several deployments can share one Redis.
    #[arg(long, value_name = "P", default_value = mcp_sse_bus_redis::DEFAULT_PREFIX, requires = "redis")]
    redis_prefix: String,
    /// Seconds a session's registration lives without renewal (default: 3 ping intervals);
    /// a crashed instance's sessions are forgotten after it.
    #[arg(long, value_name = "SECONDS", requires = "redis")]
    redis_lease: Option<f64>,
}

fn read_file(path: &std::path::Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Usage(format!("{what} {}: {e}", path.display())))
}

fn cmd_serve(args: ServeArgs) -> Result<(), Failure> {
    let ping = seconds(args.ping_interval, "--ping-interval")?;
    let grace = seconds(args.shutdown_grace, "--shutdown-grace")?;
    let security = Security::Explicit(security_for(&args));
    let auth = args
        .bearer_token
        .as_ref()
        .map(|t| transport::AuthConfig::new(transport::BearerToken::new(t.clone())));
    let cors = (!args.cors_origins.is_empty())
        .then(|| transport::CorsConfig::new(args.cors_origins.iter().cloned()));
    let cluster = match &args.redis {
        Some(url) => Some(cluster_options(url, &args, ping)?),
        None => None,
    };
    let config = transport::ServerConfig {
        foreign: cluster.is_some().then(transport::ForeignConfig::default),
        auth,
        cors,
        root_path: args.prefix,
        ping_interval: (!ping.is_zero()).then_some(ping),
        security,
        ..transport::ServerConfig::default()
    };
    let tls = match args.tls_cert.as_ref().zip(args.tls_key.as_ref()) {
        Some((cert, key)) => Some(
            TlsServer::from_pem(
                &read_file(cert, "--tls-cert")?,
                &read_file(key, "--tls-key")?,
            )
            .map_err(|e| Failure::Usage(e.to_string()))?,
        ),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let bind = args.bind;
    tokio_runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| Failure::Connect(format!("cannot listen on {bind}: {e}")))?;
        let addr = listener.local_addr()?;
        let prefix = config.root_path.trim_end_matches('/').to_string();
        let clustered = cluster.is_some();
        let options = mcp_sse_tokio::ServerOptions {
            transport: config,
            cluster,
        };
        let serving = match tls {
            None => mcp_sse_tokio::serve(listener, demo::server(), options)?,
            Some(tls) => {
                // Each accepted connection is wrapped in TLS; its handshake runs as it is
                // read, so a slow client never holds up the accept loop.
                let listener = Arc::new(listener);
                let accept = move || {
                    let (l, tls) = (listener.clone(), tls.clone());
                    Box::pin(async move {
                        let (stream, _) = l.accept().await?;
                        tls.wrap(mcp_sse_tokio::tcp_connection(stream))
                            .map_err(std::io::Error::other)
                    }) as mcp_sse_glue::BoxFuture<'static, std::io::Result<_>>
                };
                let rt = mcp_sse_tokio::runtime();
                mcp_sse_glue::serve_with(rt, accept, addr, demo::server(), options)
            }
        };
        if clustered && !serving.sse().wait_bus_ready(BUS_READY_WAIT).await {
            eprintln!(
                "mcp-sse: Redis is not reachable yet: local sessions work, POSTs for other \
                 instances' sessions get 503 until it is (retrying with backoff)"
            );
        }
        // Handlers first: a SIGTERM sent as soon as the line below is read must not meet the
        // default action (which kills the process without the clean shutdown).
        let mut stop = StopSignals::install()?;
        say(format!(
            "mcp-sse: serving the demo server on {scheme}://{addr}{prefix}/sse"
        ))?;
        stop.wait().await;
        eprintln!(
            "mcp-sse: shutting down (at most {} s; a second signal cuts the sessions now)",
            grace.as_secs_f64()
        );
        tokio::select! {
            _ = serving.shutdown() => {}
            _ = tokio::time::sleep(grace) => {
                eprintln!("mcp-sse: the grace period ended; cutting the remaining sessions");
            }
            _ = stop.wait() => eprintln!("mcp-sse: second signal; cutting the sessions"),
        }
        // Returning drops the runtime, which closes every connection still open.
        Ok(())
    })
}

/// How long `serve --redis` waits for Redis before it announces that it is serving.
const BUS_READY_WAIT: Duration = Duration::from_secs(5);

/// The scale-out settings of `serve --redis`.
fn cluster_options(
    url: &str,
    args: &ServeArgs,
    ping: Duration,
) -> Result<mcp_sse_glue::ClusterOptions, Failure> {
    let instance = match &args.instance {
        Some(name) => name.clone(),
        None => {
            let r = mcp_sse_glue::os_random();
            format!("mcp-sse-{:02x}{:02x}{:02x}{:02x}", r[0], r[1], r[2], r[3])
        }
    };
    let bus = mcp_sse_bus_redis::RedisBus::new(mcp_sse_bus_redis::RedisBusConfig {
        prefix: args.redis_prefix.clone(),
        ..mcp_sse_bus_redis::RedisBusConfig::new(url, instance.clone())
    })
    .map_err(|e| Failure::Usage(format!("--redis: {e}")))?;
    let mut options =
        mcp_sse_glue::ClusterOptions::new(Arc::new(bus), (!ping.is_zero()).then_some(ping));
    if let Some(lease) = args.redis_lease {
        options.registry.lease = seconds(lease, "--redis-lease")?;
    }
    if options.registry.lease <= options.registry.renew_every {
        return Err(Failure::Usage(format!(
            "--redis-lease must be longer than the renewal interval ({} s, the ping interval)",
            options.registry.renew_every.as_secs_f64()
        )));
    }
    eprintln!(
        "mcp-sse: scale-out on {url} as instance {instance} (prefix {:?}, lease {} s)",
        args.redis_prefix,
        options.registry.lease.as_secs_f64()
    );
    Ok(options)
}

/// The Host/Origin checks of `serve`: the reference's default for the bind host, widened by
/// `--allow-host`/`--allow-origin`, off with `--no-dns-protection`.
fn security_for(args: &ServeArgs) -> SecuritySettings {
    let host = args
        .bind
        .rsplit_once(':')
        .map_or(args.bind.as_str(), |(h, _)| h);
    let mut security = SecuritySettings::for_bind_host(host);
    if !args.allow_hosts.is_empty() || !args.allow_origins.is_empty() {
        security.dns_rebinding_protection = true;
        security
            .allowed_hosts
            .extend(args.allow_hosts.iter().cloned());
        security
            .allowed_origins
            .extend(args.allow_origins.iter().cloned());
    }
    if args.no_dns_protection {
        security.dns_rebinding_protection = false;
    }
    security
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
    fn install() -> Result<Self, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let install = |kind, name| {
                signal(kind).map_err(|e| Failure::Failed(format!("{name} handler: {e}")))
            };
            Ok(StopSignals {
                term: install(SignalKind::terminate(), "SIGTERM")?,
                int: install(SignalKind::interrupt(), "SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    /// Completes at the next SIGTERM or SIGINT.
    async fn wait(&mut self) {
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

async fn connect_tcp(url: &str, args: &ClientArgs) -> Result<Client, Failure> {
    let mut headers = args.headers.clone();
    if let Some(t) = &args.bearer_token {
        headers.push(("Authorization".into(), format!("Bearer {t}")));
    }
    let config = transport::ClientConfig {
        headers,
        connect_timeout: seconds(args.connect_timeout, "--connect-timeout")?,
        ..Default::default()
    };
    let tls = match &args.cacert {
        Some(path) => Some(
            TlsClient::with_extra_roots_pem(&read_file(path, "--cacert")?)
                .map_err(|e| Failure::Usage(format!("--cacert {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let options = ClientOptions {
        read_timeout: Some(seconds(args.timeout, "--timeout")?),
        tls,
        ..ClientOptions::default()
    };
    mcp_sse_tokio::connect_with(url, options, config)
        .await
        .map_err(|e| Failure::Connect(format!("cannot connect to {url}: {e}")))
}

/// A JSON-RPC error as its wire object.
fn error_json(e: &mcp_sse_core::jsonrpc::ErrorObject) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("code".into(), Value::from(e.code));
    m.insert("message".into(), Value::from(e.message.clone()));
    if let Some(d) = &e.data {
        m.insert("data".into(), d.clone());
    }
    Value::Object(m)
}

/// A list `probe` shows: the capability that announces it, its method and result key.
const PROBED_LISTS: [(&str, &str, &str); 3] = [
    ("tools", "tools/list", "tools"),
    ("resources", "resources/list", "resources"),
    ("prompts", "prompts/list", "prompts"),
];

fn cmd_probe(url: &str, args: ClientArgs) -> Result<(), Failure> {
    tokio_runtime()?.block_on(async move {
        let client = connect_tcp(url, &args).await?;
        let init = client.initialize_result().unwrap_or(Value::Null);
        let caps = init["capabilities"].clone();
        let mut lists = serde_json::Map::new();
        for (cap, method, key) in PROBED_LISTS {
            if caps.get(cap).is_none() {
                continue;
            }
            let listed = client.request(method, None, CallOptions::default()).await;
            lists.insert(
                key.to_string(),
                match listed {
                    Ok(v) => v[key].clone(),
                    Err(e) => json!({ "error": error_json(&e.to_error_object()) }),
                },
            );
        }
        client.close().await;
        if args.json {
            let mut doc = json!({ "initialize": init });
            if let Value::Object(m) = &mut doc {
                m.extend(lists);
            }
            return say(&doc);
        }
        say(format!("server:       {}", init["serverInfo"]))?;
        say(format!("protocol:     {}", init["protocolVersion"]))?;
        say(format!("capabilities: {caps}"))?;
        if let Some(i) = init.get("instructions") {
            say(format!("instructions: {i}"))?;
        }
        for (key, items) in lists {
            if let Some(e) = items.get("error") {
                say(format!("{key}: error {} {}", e["code"], e["message"]))?;
                continue;
            }
            say(format!("{key}:"))?;
            for item in items.as_array().into_iter().flatten() {
                let name = item
                    .get("name")
                    .or_else(|| item.get("uri"))
                    .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_string))
                    .unwrap_or_default();
                let desc = item
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                say(format!("  - {name} {desc}"))?;
            }
        }
        Ok(())
    })
}

fn cmd_call(url: &str, tool: &str, json_args: &str, args: ClientArgs) -> Result<(), Failure> {
    let arguments = match serde_json::from_str::<Value>(json_args) {
        Ok(Value::Object(m)) => m,
        Ok(other) => {
            return Err(Failure::Usage(format!(
                "ARGS must be a JSON object, not {other}"
            )))
        }
        Err(e) => return Err(Failure::Usage(format!("ARGS is not JSON: {e}"))),
    };
    tokio_runtime()?.block_on(async move {
        let client = connect_tcp(url, &args).await?;
        let mut params = serde_json::Map::new();
        params.insert("name".into(), Value::from(tool));
        params.insert("arguments".into(), Value::Object(arguments));
        let result = client
            .request("tools/call", Some(params), CallOptions::default())
            .await;
        client.close().await;
        match result {
            Ok(v) => {
                if args.json {
                    say(&v)?;
                } else {
                    say(serde_json::to_string_pretty(&v).unwrap_or_default())?;
                }
                if v["isError"] == json!(true) {
                    return Err(Failure::Failed(format!("tool {tool} returned isError")));
                }
                Ok(())
            }
            Err(e) => {
                let e = e.to_error_object();
                if args.json {
                    say(json!({ "error": error_json(&e) }))?;
                }
                Err(Failure::Failed(format!("error {e}")))
            }
        }
    })
}
