//! The CLI's half of the transport [`Context`]: the global registry flags and the
//! environment (`REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`,
//! `DOCKER_CONFIG`, `HOME`; `CI` in `progress.rs`) read once, here and nowhere else, and
//! handed to husk-transport as plain data. `main` builds the one Context and passes it
//! to every command.

use std::path::PathBuf;
use std::sync::Arc;

use husk_registry::{Logger, PlainHttp};
use husk_transport::{AuthEnv, Context, Settings};

use crate::cli::RegistryFlags;

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The environment values the auth-file order depends on.
fn auth_env() -> AuthEnv {
    AuthEnv {
        registry_auth_file: env_path("REGISTRY_AUTH_FILE"),
        xdg_runtime_dir: env_path("XDG_RUNTIME_DIR"),
        xdg_config_home: env_path("XDG_CONFIG_HOME"),
        docker_config: env_path("DOCKER_CONFIG"),
        home: env_path("HOME"),
    }
}

/// The Context of this run. `quiet` (from `--quiet` or machine-readable output) turns
/// progress bars off; `-v` logs registry requests to stderr.
pub fn build(flags: &RegistryFlags, quiet: bool) -> Context {
    let plain_http = match (flags.insecure_http, flags.insecure_http_remote) {
        (_, true) => PlainHttp::Any,
        (true, false) => PlainHttp::Loopback,
        (false, false) => PlainHttp::Never,
    };
    let log = (flags.verbose > 0).then(|| {
        let log: Logger = Arc::new(|line: &str| eprintln!("husk: {}", husk_oci::escape_text(line)));
        log
    });
    Context::new(Settings {
        authfile: flags.authfile.clone(),
        env: auth_env(),
        ca_certs: flags.ca_cert.clone(),
        cert_dir: flags.cert_dir.clone(),
        plain_http,
        retries: flags.retries,
        // 0 only from `RegistryFlags::default()` (the flag refuses it): the library's default.
        idle_timeout: (flags.registry_timeout > 0)
            .then(|| std::time::Duration::from_secs(flags.registry_timeout)),
        verbosity: flags.verbose,
        log,
        progress: crate::progress::factory(quiet),
    })
}
