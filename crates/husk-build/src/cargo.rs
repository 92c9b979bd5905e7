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

use crate::{BuildError, Environment};

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
    /// `self` with every option set in `over` replacing its own. (Both the pattern and
    /// the literal name every field, so a new Cargo option cannot be left unmerged.)
    #[must_use]
    pub fn merged(self, over: CargoOptions) -> CargoOptions {
        let CargoOptions {
            manifest_path,
            package,
            bin,
            profile,
            target,
            static_link,
            features,
        } = over;
        CargoOptions {
            manifest_path: manifest_path.or(self.manifest_path),
            package: package.or(self.package),
            bin: bin.or(self.bin),
            profile: profile.or(self.profile),
            target: target.or(self.target),
            static_link: static_link.or(self.static_link),
            features: features.or(self.features),
        }
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

/// What [`build_binary`] built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The executable.
    pub executable: PathBuf,
    /// True when `cargo auditable build` built it, so it carries its crate list
    /// (`.dep-v0`) for scanners; false when cargo-auditable is not installed.
    pub auditable: bool,
}

/// True when `cargo auditable` runs (cargo-auditable is installed for this Cargo).
#[must_use]
pub fn auditable_available(env: &Environment) -> bool {
    Command::new(env.cargo.clone().unwrap_or_else(|| "cargo".into()))
        .args(["auditable", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run `cargo build` (`cargo auditable build` when cargo-auditable is installed, so the
/// binary carries its dependency list) and return the built executable. The Cargo program
/// and the RUSTFLAGS a static build extends come from `env` (the caller read them).
///
/// # Errors
/// [`BuildError::Cargo`] when cargo cannot run, the build fails, or the wanted binary is
/// not (or not uniquely) among what it built.
pub fn build_binary(
    opts: &CargoOptions,
    cwd: &Path,
    env: &Environment,
) -> Result<Built, BuildError> {
    let auditable = auditable_available(env);
    let mut cmd = cargo_command(opts, cwd, env, auditable)?;
    // Cargo's human output (progress, warnings, errors) goes to the user's stderr.
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| BuildError::Cargo {
            message: format!("cannot run cargo: {source}"),
        })?;
    let executables = match child.stdout.take() {
        Some(stdout) => built_executables(stdout),
        None => Vec::new(),
    };
    let status = child.wait().map_err(|source| BuildError::Cargo {
        message: format!("cannot wait for cargo: {source}"),
    })?;
    if !status.success() {
        return Err(BuildError::Cargo {
            message: format!("cargo build failed ({status}); see its output above"),
        });
    }
    Ok(Built {
        executable: pick_binary(opts, executables)?,
        auditable,
    })
}

/// The `cargo build` command for `opts` (`cargo auditable build` when `auditable`).
fn cargo_command(
    opts: &CargoOptions,
    cwd: &Path,
    env: &Environment,
    auditable: bool,
) -> Result<Command, BuildError> {
    let mut cmd = Command::new(env.cargo.clone().unwrap_or_else(|| "cargo".into()));
    if auditable {
        cmd.arg("auditable");
    }
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
        cmd.env("RUSTFLAGS", static_rustflags(env.rustflags.as_deref()));
    }
    Ok(cmd)
}

/// The caller's RUSTFLAGS plus static linking.
fn static_rustflags(flags: Option<&str>) -> String {
    match flags.filter(|f| !f.is_empty()) {
        Some(f) => format!("{f} -C target-feature=+crt-static"),
        None => "-C target-feature=+crt-static".into(),
    }
}

/// (bin target name, executable, package id) of every binary in Cargo's JSON messages.
fn built_executables(stdout: impl std::io::Read) -> Vec<(String, PathBuf, String)> {
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
    executables
}

/// The one executable that is the wanted binary.
fn pick_binary(
    opts: &CargoOptions,
    executables: Vec<(String, PathBuf, String)>,
) -> Result<PathBuf, BuildError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_builds_extend_the_callers_rustflags() {
        assert_eq!(static_rustflags(None), "-C target-feature=+crt-static");
        assert_eq!(static_rustflags(Some("")), "-C target-feature=+crt-static");
        assert_eq!(
            static_rustflags(Some("-C opt-level=s")),
            "-C opt-level=s -C target-feature=+crt-static"
        );
    }

    #[test]
    fn the_wanted_binary_is_picked_from_cargos_messages() {
        let out = concat!(
            "{\"reason\":\"compiler-artifact\",\"target\":{\"name\":\"a\",\"kind\":[\"bin\"]},\"executable\":\"/t/a\"}\n",
            "not json\n",
            "{\"reason\":\"compiler-artifact\",\"target\":{\"name\":\"lib\",\"kind\":[\"lib\"]},\"executable\":null}\n",
            "{\"reason\":\"compiler-artifact\",\"target\":{\"name\":\"b\",\"kind\":[\"bin\"]},\"executable\":\"/t/b\"}\n",
        );
        let exes = built_executables(out.as_bytes());
        assert_eq!(exes.len(), 2);
        let any = CargoOptions::default();
        assert!(pick_binary(&any, exes.clone()).is_err());
        let b = CargoOptions {
            bin: Some("b".into()),
            ..Default::default()
        };
        assert_eq!(pick_binary(&b, exes).unwrap(), PathBuf::from("/t/b"));
        assert!(pick_binary(&b, Vec::new()).is_err());
    }
}
