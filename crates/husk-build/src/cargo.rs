//! Build a Cargo package's binary and hand its path to `husk build`, the way ko builds a
//! Go main package: `husk build --cargo --package scratch-demo`.
//!
//! Runs `cargo build --message-format=json-render-diagnostics` and takes the executable
//! from the `compiler-artifact` message of the wanted bin target, so any workspace layout,
//! profile or target dir works without guessing paths. `static_link` builds a static-pie
//! glibc binary (`-C target-feature=+crt-static` with an explicit `--target`, so build
//! scripts and proc-macros stay dynamic).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::BuildError;

/// What to build with Cargo. In `husk.toml` this is the `[cargo]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CargoOptions {
    /// Path to the Cargo.toml (default: Cargo's own discovery from the current directory).
    pub manifest_path: Option<PathBuf>,
    /// `-p`: the package.
    pub package: Option<String>,
    /// `--bin`: the binary target (default: the package's only binary).
    pub bin: Option<String>,
    /// Cargo profile (default `release`).
    pub profile: Option<String>,
    /// Target triple (default: the host's when `static` is set, else none).
    pub target: Option<String>,
    /// Link statically (static-pie on glibc targets).
    #[serde(rename = "static")]
    pub static_link: Option<bool>,
    /// Extra Cargo features.
    pub features: Option<Vec<String>>,
}

impl CargoOptions {
    /// `self` with every option set in `over` replacing its own.
    pub fn merged(mut self, over: CargoOptions) -> CargoOptions {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f; } )* };
        }
        take!(
            manifest_path,
            package,
            bin,
            profile,
            target,
            static_link,
            features
        );
        self
    }
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    package_id: Option<String>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

fn host_triple() -> Result<String, BuildError> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|source| BuildError::Cargo {
            message: format!("cannot run rustc -vV to learn the host target: {source}"),
        })?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| BuildError::Cargo {
            message: "rustc -vV printed no host line".into(),
        })
}

/// Run `cargo build` and return the path of the built executable.
///
/// # Errors
/// [`BuildError::Cargo`] when cargo cannot run, the build fails, or the wanted binary is
/// not (or not uniquely) among what it built.
pub fn build_binary(opts: &CargoOptions, cwd: &Path) -> Result<PathBuf, BuildError> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(cwd)
        .args([
            "build",
            "--message-format=json-render-diagnostics",
            "--profile",
        ])
        .arg(opts.profile.as_deref().unwrap_or("release"));
    if let Some(m) = &opts.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    if let Some(p) = &opts.package {
        cmd.args(["--package", p]);
    }
    if let Some(b) = &opts.bin {
        cmd.args(["--bin", b]);
    } else {
        cmd.arg("--bins");
    }
    if let Some(f) = &opts.features {
        cmd.args(["--features", &f.join(",")]);
    }
    let static_link = opts.static_link.unwrap_or(false);
    let target = match (&opts.target, static_link) {
        (Some(t), _) => Some(t.clone()),
        (None, true) => Some(host_triple()?),
        (None, false) => None,
    };
    if let Some(t) = &target {
        cmd.args(["--target", t]);
    }
    if static_link {
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        if !flags.is_empty() {
            flags.push(' ');
        }
        flags.push_str("-C target-feature=+crt-static");
        cmd.env("RUSTFLAGS", flags);
    }
    // Cargo's human output (progress, warnings, errors) goes to the user's stderr.
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| BuildError::Cargo {
            message: format!("cannot run cargo: {source}"),
        })?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut executables = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Ok(msg) = serde_json::from_str::<Message>(&line) else {
            continue;
        };
        if msg.reason != "compiler-artifact" {
            continue;
        }
        if let (Some(t), Some(exe)) = (msg.target, msg.executable)
            && t.kind.iter().any(|k| k == "bin")
        {
            executables.push((t.name, exe, msg.package_id.unwrap_or_default()));
        }
    }
    let status = child.wait().map_err(|source| BuildError::Cargo {
        message: format!("cannot wait for cargo: {source}"),
    })?;
    if !status.success() {
        return Err(BuildError::Cargo {
            message: format!("cargo build failed ({status}); see its output above"),
        });
    }
    let wanted: Vec<_> = executables
        .into_iter()
        .filter(|(name, _, _)| opts.bin.as_ref().is_none_or(|b| b == name))
        .collect();
    match wanted.as_slice() {
        [(_, exe, _)] => Ok(exe.clone()),
        [] => Err(BuildError::Cargo {
            message:
                "cargo built no binary; name the package with --package or the binary with --bin"
                    .into(),
        }),
        many => Err(BuildError::Cargo {
            message: format!(
                "cargo built several binaries ({}); choose one with --bin",
                many.iter()
                    .map(|(n, _, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}
