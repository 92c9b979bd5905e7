//! The `scratch-demo` binary: parses arguments and environment, wires signals, maps
//! results to exit codes (0 ok, 1 unhealthy, 2 error). All logic is in the library.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use scratch_demo::log::{LogFormat, Logger};
use scratch_demo::server::{
    DEFAULT_LISTEN_BACKLOG, DEFAULT_MAX_CONNECTIONS, MAX_CONNECTIONS_LIMIT, RESERVED_FDS,
    ServeOptions, Server,
};
use scratch_demo::{healthcheck, tls};

/// HTTPS demo service: answers every path with `Hello, "<path>" from Scratch Demo!`.
#[derive(Debug, Parser)]
#[command(name = "scratch-demo", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTPS (what runs when no subcommand is given).
    Serve(ServeArgs),
    /// Write a self-signed server.crt and server.key (mode 0600) into a directory.
    GenCert(GenCertArgs),
    /// Probe a running server over HTTPS; exit 0 when it answers 200, 1 otherwise.
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Clone, Args)]
struct ServeArgs {
    /// Address to listen on, IPv4 or IPv6 (`[::]:443`).
    #[arg(
        long,
        env = "SCRATCH_DEMO_LISTEN",
        default_value = "0.0.0.0:443",
        value_name = "ADDR"
    )]
    listen: SocketAddr,
    /// PEM certificate chain file.
    #[arg(
        long,
        env = "SCRATCH_DEMO_CERT",
        default_value = "server.crt",
        value_name = "FILE"
    )]
    cert: PathBuf,
    /// PEM private key file (PKCS#8, RSA or EC).
    #[arg(
        long,
        env = "SCRATCH_DEMO_KEY",
        default_value = "server.key",
        value_name = "FILE"
    )]
    key: PathBuf,
    /// Make an in-memory self-signed certificate for these names at start, instead of
    /// reading --cert/--key; nothing is written to disk. Without names:
    /// localhost,127.0.0.1. The --listen IP is added when it is a specific address
    /// (::1 for [::]). Valid for 365 days from an hour ago.
    #[arg(
        long,
        env = "SCRATCH_DEMO_SELF_SIGNED",
        value_name = "NAME",
        num_args = 0..,
        value_delimiter = ',',
        default_missing_values = tls::DEFAULT_NAMES,
        conflicts_with_all = ["cert", "key"],
    )]
    self_signed: Option<Vec<String>>,
    /// Log line format.
    #[arg(long, env = "SCRATCH_DEMO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Do not write an access-log line per request.
    #[arg(long, env = "SCRATCH_DEMO_NO_ACCESS_LOG")]
    no_access_log: bool,
    /// Time allowed for the TLS handshake (e.g. 10s, 500ms).
    #[arg(long, env = "SCRATCH_DEMO_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    handshake_timeout: Duration,
    /// Time allowed for a complete HTTP/1.1 request head (in total: trickling bytes does
    /// not extend it) or the HTTP/2 connection preface; also bounds a silent HTTP/1.1
    /// keep-alive connection.
    #[arg(long, env = "SCRATCH_DEMO_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    header_read_timeout: Duration,
    /// Close a connection with no request in flight for this long (HTTP/2: GOAWAY).
    #[arg(long, env = "SCRATCH_DEMO_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Drop a connection told to close that has not closed after this long (an HTTP/2
    /// client that never answers the GOAWAY's PING).
    #[arg(long, env = "SCRATCH_DEMO_CLOSE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    close_timeout: Duration,
    /// On SIGTERM/SIGINT, how long to let in-flight requests finish.
    #[arg(long, env = "SCRATCH_DEMO_DRAIN_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// Connections open at once. When full, the least recently active connection with no
    /// request in flight is closed to make room, taken first from the address with the
    /// most connections; requests in flight are never cut. Lowered to fit the open-files
    /// limit (raised to its hard limit at start) when that is smaller.
    #[arg(long, env = "SCRATCH_DEMO_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS as u32,
          value_parser = clap::value_parser!(u32).range(1..=MAX_CONNECTIONS_LIMIT as i64))]
    max_connections: u32,
    /// Listen backlog: connections the kernel queues before they are accepted (Linux
    /// clamps it to net.core.somaxconn).
    #[arg(long, env = "SCRATCH_DEMO_LISTEN_BACKLOG", default_value_t = DEFAULT_LISTEN_BACKLOG,
          value_parser = clap::value_parser!(u32).range(1..=65535))]
    listen_backlog: u32,
    /// At most one summary line each of sheds, timeouts and refusals per this interval.
    #[arg(long, env = "SCRATCH_DEMO_EVENT_LOG_INTERVAL", default_value = "10s", value_parser = parse_duration)]
    event_log_interval: Duration,
    /// HTTP/1.1: largest request head in bytes (431 beyond it).
    #[arg(long, env = "SCRATCH_DEMO_MAX_HEADER_BYTES", default_value_t = 16384,
          value_parser = clap::value_parser!(u32).range(1024..=1_048_576))]
    max_header_bytes: u32,
    /// HTTP/2: concurrent streams per connection.
    #[arg(long, env = "SCRATCH_DEMO_H2_MAX_CONCURRENT_STREAMS", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    h2_max_concurrent_streams: u32,
    /// HTTP/2: largest decoded header list in bytes.
    #[arg(long, env = "SCRATCH_DEMO_H2_MAX_HEADER_LIST_SIZE", default_value_t = 16384,
          value_parser = clap::value_parser!(u32).range(1024..=1_048_576))]
    h2_max_header_list_size: u32,
    /// Async runtime worker threads [default: the CPUs this process may use]; with 1 the
    /// server runs on its main thread alone.
    #[arg(long, env = "SCRATCH_DEMO_WORKER_THREADS", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    worker_threads: Option<u16>,
    /// Serve /__test/slow/<ms> (for the test suite only).
    #[arg(long, hide = true)]
    test_endpoints: bool,
}

#[derive(Debug, Args)]
struct GenCertArgs {
    /// Directory to write server.crt and server.key into (created if missing).
    #[arg(long, default_value = ".", value_name = "DIR")]
    out: PathBuf,
    /// DNS names or IP addresses for the certificate (repeat or comma-separate).
    #[arg(long = "name", value_name = "NAME", value_delimiter = ',', default_values = tls::DEFAULT_NAMES)]
    names: Vec<String>,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct HealthcheckArgs {
    /// URL to probe. Default: https://<loopback>:<port of --addr>/healthz.
    #[arg(long, env = "SCRATCH_DEMO_HEALTHCHECK_URL", value_name = "URL")]
    url: Option<String>,
    /// The server's listen address, used to build the default URL (0.0.0.0 becomes
    /// 127.0.0.1, [::] becomes [::1]).
    #[arg(
        long,
        visible_alias = "listen",
        env = "SCRATCH_DEMO_LISTEN",
        default_value = "0.0.0.0:443",
        value_name = "ADDR"
    )]
    addr: SocketAddr,
    /// Verify the server against this PEM certificate (e.g. server.crt). Without it,
    /// verification is skipped, and only for loopback hosts.
    #[arg(long, env = "SCRATCH_DEMO_HEALTHCHECK_CA", value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Give up after this long.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
}

fn main() -> ExitCode {
    tls::install_default_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::GenCert(args)) => gen_cert(args),
        Some(Command::Healthcheck(args)) => return health(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let logger = Logger::new(args.log_format, !args.no_access_log);
    let (pair, origin) = match &args.self_signed {
        Some(names) => {
            let names = tls::names_for_listen(names, args.listen.ip());
            (
                tls::generate_self_signed(&names)?.pair,
                format!(
                    "generated in-memory self-signed certificate for {}",
                    names.join(",")
                ),
            )
        }
        None => (
            tls::load_pair(&args.cert, &args.key)?,
            format!("loaded certificate {}", args.cert.display()),
        ),
    };
    let fingerprint = pair.fingerprint();
    let tls_config = tls::server_config(pair)?;
    logger.info(&format!("{origin} (SHA-256 fingerprint {fingerprint})"));
    // Which build is running: one image index carries a program per architecture, and an
    // engine picks one; this line says which it picked (as `uname -m` would).
    logger.info(&format!(
        "scratch-demo {} on {}/{}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    ));
    let opts = ServeOptions {
        handshake_timeout: args.handshake_timeout,
        header_read_timeout: args.header_read_timeout,
        idle_timeout: args.idle_timeout,
        close_timeout: args.close_timeout,
        drain_timeout: args.drain_timeout,
        max_connections: fit_open_files(args.max_connections, logger),
        listen_backlog: args.listen_backlog,
        event_log_interval: args.event_log_interval,
        max_header_bytes: args.max_header_bytes as usize,
        h2_max_concurrent_streams: args.h2_max_concurrent_streams,
        h2_max_header_list_size: args.h2_max_header_list_size,
        test_endpoints: args.test_endpoints,
    };
    let runtime = runtime_builder(args.worker_threads)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let server = Server::bind(args.listen, tls_config, opts, logger).await?;
        // Handlers go in before "listening" is logged: a SIGTERM after that line must
        // never hit the default action (as PID 1 it would be ignored, elsewhere fatal).
        let (first, second) = signals(logger)?;
        let addr = server
            .local_addr()
            .context("cannot read the bound address")?;
        logger.info(&format!("listening on https://{addr}"));
        // The accept loop runs as a task (on a worker thread of a multi-thread runtime),
        // not in `block_on` on the main thread: connections it spawns then start on that
        // worker's local queue instead of going through the runtime's global queue with a
        // cross-thread wake-up each.
        let running = tokio::spawn(server.run(first));
        tokio::select! {
            _report = running => {}
            () = second => logger.warn("second signal: exiting without waiting for connections"),
        }
        anyhow::Ok(())
    })?;
    // Connections abandoned after the drain timeout are dropped with the runtime.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

/// The async runtime for `workers` threads (default: the CPUs this process may use, as
/// `available_parallelism` counts them, which honours CPU affinity and cgroup quotas).
/// With one, the runtime runs on the main thread alone: a multi-thread runtime would add
/// a worker thread (its stack, its malloc arena) and work-stealing bookkeeping that one
/// CPU cannot use.
fn runtime_builder(workers: Option<u16>) -> tokio::runtime::Builder {
    let workers = workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        usize::from,
    );
    if workers == 1 {
        return tokio::runtime::Builder::new_current_thread();
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(workers);
    builder
}

/// `max_connections`, lowered (with a warning) when the open-files limit, once raised to
/// its hard limit, leaves room for fewer connections.
fn fit_open_files(max_connections: u32, logger: Logger) -> usize {
    let wanted = max_connections as usize;
    match scratch_demo::server::raise_open_files_limit() {
        Ok(limit) => {
            let usable = usize::try_from(limit.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
            if wanted > usable {
                logger.warn(&format!(
                    "the open-files limit ({limit}) leaves room for {usable} connections: \
                     serving at most {usable} instead of --max-connections {wanted} \
                     (raise it with ulimit -n, LimitNOFILE= or --ulimit nofile=N:N)"
                ));
                return usable.max(1);
            }
            wanted
        }
        Err(e) => {
            logger.warn(&format!("cannot raise the open-files limit: {e}"));
            wanted
        }
    }
}

/// Two futures: the first SIGTERM/SIGINT, and a second one (forced exit).
fn signals(
    logger: Logger,
) -> anyhow::Result<(
    impl Future<Output = ()> + Send,
    impl Future<Output = ()> + Send,
)> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    let (second_tx, second_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        logger.info(&format!("received {name}"));
        let _ = first_tx.send(());
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        logger.warn(&format!("received {name} again"));
        let _ = second_tx.send(());
    });
    let first = async move {
        let _ = first_rx.await;
    };
    let second = async move {
        if second_rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    Ok((first, second))
}

fn gen_cert(args: GenCertArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create directory {}", args.out.display()))?;
    let (cert, key) = tls::write_pair(&args.out, &args.names, args.force)?;
    let pair = tls::load_pair(&cert, &key)?;
    println!("wrote {}", cert.display());
    println!("wrote {} (mode 0600)", key.display());
    println!("SHA-256 fingerprint {}", pair.fingerprint());
    Ok(())
}

/// Exit 0 when healthy, 1 for anything else (Docker reserves 2 in health checks).
fn health(args: HealthcheckArgs) -> ExitCode {
    let url = args.url.unwrap_or_else(|| default_probe_url(args.addr));
    let probe = async { healthcheck::probe(&url, args.ca_file.as_deref(), args.timeout).await };
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(probe).map_err(anyhow::Error::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unhealthy: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn default_probe_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("https://{}/healthz", SocketAddr::new(ip, listen.port()))
}

/// `500ms`, `10s`, `2m`, or a bare number of seconds; must be positive.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 500ms, 10s or 2m"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(format!("{s:?}: unit must be ms, s or m")),
    };
    if d.is_zero() {
        return Err("must be greater than zero".into());
    }
    Ok(d)
}
