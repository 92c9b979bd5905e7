//! Build a Cargo package's binary and hand its path to `husk build`, the way ko builds a
//! Go main package: `husk build --cargo --package scratch-demo`.
//!
//! Runs `cargo build --message-format=json-render-diagnostics` and takes the executable
//! from the `compiler-artifact` message of the wanted bin target, so any workspace layout,
//! profile or target dir works without guessing paths. `static_link` builds a static-pie
//! glibc binary (`-C target-feature=+crt-static` with an explicit `--target`, so build
//! scripts and proc-macros stay dynamic).
//!
//! Several targets (`--target` repeated, or a list in `[cargo] target`) are one Cargo run
//! each, in order; each executable becomes one image of a multi-platform index, its
//! platform read from its ELF header like `--platform-exe`. Before anything runs,
//! [`plan_runs`] checks every target (a Linux triple of its own platform, its standard
//! library installed, a linker for it: see [`crate::cross`]); `optional-targets` are
//! built where those are present and skipped, with the reason, where they are not.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Deserializer};

use crate::cross::{self, Linker, LinkerFacts};
use crate::values::Setting;
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
    /// Target triples, one Cargo build and one image each (`target`: one triple or a
    /// list; default: the host's when `static` is set, else Cargo's default).
    #[serde(
        default,
        rename = "target",
        alias = "targets",
        deserialize_with = "one_or_many"
    )]
    pub targets: Option<Vec<String>>,
    /// Targets built only where their Rust standard library and linker are installed;
    /// elsewhere they are skipped with a note saying how to install them.
    pub optional_targets: Option<Vec<String>>,
    /// Link statically (static-pie on glibc targets).
    #[serde(rename = "static")]
    pub static_link: Option<bool>,
    /// Extra Cargo features.
    pub features: Option<Vec<String>>,
}

/// `target = "x"` or `target = ["x", "y"]`.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Some(match OneOrMany::deserialize(d)? {
        OneOrMany::One(t) => vec![t],
        OneOrMany::Many(ts) => ts,
    }))
}

impl CargoOptions {
    /// `self` with every option set in `over` replacing its own. Targets named in `over`
    /// replace the optional ones too: `--target X` builds exactly X. (Both the pattern and
    /// the literal name every field, so a new Cargo option cannot be left unmerged.)
    #[must_use]
    pub fn merged(self, over: CargoOptions) -> CargoOptions {
        let CargoOptions {
            manifest_path,
            package,
            bin,
            profile,
            targets,
            optional_targets,
            static_link,
            features,
        } = over;
        let optional_targets = match targets {
            Some(_) => optional_targets,
            None => optional_targets.or(self.optional_targets),
        };
        CargoOptions {
            manifest_path: manifest_path.or(self.manifest_path),
            package: package.or(self.package),
            bin: bin.or(self.bin),
            profile: profile.or(self.profile),
            targets: targets.or(self.targets),
            optional_targets,
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

/// What [`build_binary`] built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The executable.
    pub executable: PathBuf,
    /// True when `cargo auditable build` built it, so it carries its crate list
    /// (`.dep-v0`) for scanners; false when cargo-auditable is not installed.
    pub auditable: bool,
    /// The target it was built for (none: Cargo's default).
    pub target: Option<String>,
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

/// One Cargo run: its `--target` (none: Cargo's default) and the linker husk sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoRun {
    pub target: Option<String>,
    pub linker: Option<Linker>,
}

/// The Cargo runs of a build, and the optional targets left out (with why).
#[derive(Debug)]
pub struct CargoPlan {
    pub runs: Vec<CargoRun>,
    pub skipped: Vec<(String, BuildError)>,
}

/// Every target checked before Cargo runs: one target per platform, each one's standard
/// library installed and a linker for it (Debian's cross gcc set when none is
/// configured). A required target failing a check is an error; an optional one is
/// skipped.
///
/// # Errors
/// [`BuildError::TargetsForOnePlatform`], [`BuildError::TargetStdMissing`],
/// [`BuildError::CrossLinkerMissing`], or [`BuildError::Cargo`] when rustc cannot say
/// the host's triple, or every target was optional and none can be built.
pub fn plan_runs(
    opts: &CargoOptions,
    cwd: &Path,
    env: &Environment,
) -> Result<CargoPlan, BuildError> {
    let required = opts.targets.clone().unwrap_or_default();
    let optional = opts.optional_targets.clone().unwrap_or_default();
    let listed: Vec<(String, bool)> = required
        .into_iter()
        .map(|t| (t, false))
        .chain(optional.into_iter().map(|t| (t, true)))
        .collect();
    check_one_per_platform(&listed)?;
    let mut plan = CargoPlan {
        runs: Vec::new(),
        skipped: Vec::new(),
    };
    if listed.is_empty() {
        let static_link = opts.static_link.unwrap_or(false);
        let target = static_link.then(|| cross::host_triple(env)).transpose()?;
        plan.runs.push(CargoRun {
            target,
            linker: None,
        });
        return Ok(plan);
    }
    let host = cross::host_triple(env)?;
    // The host's own target, unless static, is Cargo's default build: the same program,
    // in the directory the package's other host builds share.
    let plain_host = !opts.static_link.unwrap_or(false);
    for (triple, optional) in listed {
        match check_target(&triple, &host, cwd, env) {
            Ok(linker) => plan.runs.push(CargoRun {
                target: (!(plain_host && triple == host)).then_some(triple),
                linker,
            }),
            Err(e) if optional => plan.skipped.push((triple, e)),
            Err(e) => return Err(e),
        }
    }
    if plan.runs.is_empty() {
        let reasons: Vec<String> = plan
            .skipped
            .iter()
            .map(|(t, e)| format!("{t}: {e}"))
            .collect();
        return Err(BuildError::Cargo {
            message: format!(
                "none of the optional targets can be built here ({}); install one, or name a target with --target",
                reasons.join("; ")
            ),
        });
    }
    Ok(plan)
}

/// One target's standard library and linker.
fn check_target(
    triple: &str,
    host: &str,
    cwd: &Path,
    env: &Environment,
) -> Result<Option<Linker>, BuildError> {
    if let Some(libdir) = cross::missing_std(triple, env) {
        return Err(BuildError::TargetStdMissing {
            target: triple.to_owned(),
            libdir,
        });
    }
    let facts = LinkerFacts {
        host,
        configured: cross::linker_configured(triple, cwd, env),
        runs: &cross::runs,
    };
    cross::cross_linker(triple, &facts)
}

/// Two targets of one platform would make two images the index cannot hold.
fn check_one_per_platform(listed: &[(String, bool)]) -> Result<(), BuildError> {
    for (i, (a, _)) in listed.iter().enumerate() {
        let Some(arch) = cross::oci_architecture(a) else {
            continue;
        };
        if let Some((b, _)) = listed[i + 1..]
            .iter()
            .find(|(b, _)| cross::oci_architecture(b) == Some(arch))
        {
            return Err(BuildError::TargetsForOnePlatform {
                option: Setting::flag("--target", "cargo.target"),
                arch,
                targets: Box::new((a.clone(), b.clone())),
            });
        }
    }
    Ok(())
}

/// Run `cargo build` once per run of `plan` (`cargo auditable build` when cargo-auditable
/// is installed, so the binary carries its dependency list) and return the built
/// executables in order. The Cargo program and the RUSTFLAGS a static build extends come
/// from `env` (the caller read them).
///
/// # Errors
/// [`BuildError::Cargo`] when cargo cannot run, a build fails, or the wanted binary is
/// not (or not uniquely) among what it built.
pub fn build_binaries(
    opts: &CargoOptions,
    plan: &CargoPlan,
    cwd: &Path,
    env: &Environment,
) -> Result<Vec<Built>, BuildError> {
    let auditable = auditable_available(env);
    plan.runs
        .iter()
        .map(|run| build_one(opts, run, cwd, env, auditable))
        .collect()
}

/// [`build_binaries`] for one target (the host's, or `[cargo] target`'s first).
///
/// # Errors
/// See [`plan_runs`] and [`build_binaries`].
pub fn build_binary(
    opts: &CargoOptions,
    cwd: &Path,
    env: &Environment,
) -> Result<Built, BuildError> {
    let mut plan = plan_runs(opts, cwd, env)?;
    plan.runs.truncate(1);
    let mut built = build_binaries(opts, &plan, cwd, env)?;
    built.pop().ok_or_else(|| BuildError::Cargo {
        message: "cargo built nothing".into(),
    })
}

/// One Cargo run; its human output (progress, warnings, errors) goes to the user's stderr.
fn build_one(
    opts: &CargoOptions,
    run: &CargoRun,
    cwd: &Path,
    env: &Environment,
    auditable: bool,
) -> Result<Built, BuildError> {
    let mut cmd = cargo_command(opts, run, cwd, env, auditable);
    let for_target = run
        .target
        .as_deref()
        .map(|t| format!(" for {t}"))
        .unwrap_or_default();
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
            message: format!("cargo build{for_target} failed ({status}); see its output above"),
        });
    }
    Ok(Built {
        executable: pick_binary(opts, executables)?,
        auditable,
        target: run.target.clone(),
    })
}

/// The `cargo build` command for `opts` and one run (`cargo auditable build` when
/// `auditable`).
fn cargo_command(
    opts: &CargoOptions,
    run: &CargoRun,
    cwd: &Path,
    env: &Environment,
    auditable: bool,
) -> Command {
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
    if let Some(t) = &run.target {
        cmd.args(["--target", t]);
    }
    if let Some((var, linker)) = &run.linker {
        cmd.env(var, linker);
    }
    if opts.static_link.unwrap_or(false) {
        cmd.env("RUSTFLAGS", static_rustflags(env.rustflags.as_deref()));
    }
    cmd
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

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn envs(cmd: &Command) -> Vec<(String, String)> {
        cmd.get_envs()
            .map(|(k, v)| {
                let v = v.map(|v| v.to_string_lossy().into_owned());
                (k.to_string_lossy().into_owned(), v.unwrap_or_default())
            })
            .collect()
    }

    #[test]
    fn each_run_gets_its_target_and_linker() {
        let opts = CargoOptions {
            manifest_path: Some("/src/Cargo.toml".into()),
            package: Some("demo".into()),
            static_link: Some(true),
            ..Default::default()
        };
        let env = Environment {
            cargo: Some("/usr/bin/cargo".into()),
            rustflags: Some("-C opt-level=s".into()),
            ..Environment::default()
        };
        let run = CargoRun {
            target: Some("aarch64-unknown-linux-gnu".into()),
            linker: Some((
                "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER".into(),
                "aarch64-linux-gnu-gcc".into(),
            )),
        };
        let cmd = cargo_command(&opts, &run, Path::new("/w"), &env, true);
        assert_eq!(cmd.get_program(), "/usr/bin/cargo");
        assert_eq!(
            args(&cmd),
            [
                "auditable",
                "build",
                "--message-format=json-render-diagnostics",
                "--profile",
                "release",
                "--manifest-path",
                "/src/Cargo.toml",
                "--package",
                "demo",
                "--bins",
                "--target",
                "aarch64-unknown-linux-gnu"
            ]
        );
        assert_eq!(
            envs(&cmd),
            [
                (
                    "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER".to_owned(),
                    "aarch64-linux-gnu-gcc".to_owned()
                ),
                (
                    "RUSTFLAGS".to_owned(),
                    "-C opt-level=s -C target-feature=+crt-static".to_owned()
                )
            ]
        );
        // The host's run: no target, no linker, nothing set.
        let host = CargoRun {
            target: None,
            linker: None,
        };
        let cmd = cargo_command(
            &CargoOptions::default(),
            &host,
            Path::new("/w"),
            &env,
            false,
        );
        assert_eq!(cmd.get_program(), "/usr/bin/cargo");
        assert!(
            !args(&cmd)
                .iter()
                .any(|a| a == "--target" || a == "auditable")
        );
        assert!(envs(&cmd).is_empty());
    }

    #[test]
    fn target_is_one_triple_or_a_list() {
        let one: CargoOptions = toml::from_str("target = \"x86_64-unknown-linux-musl\"").unwrap();
        assert_eq!(one.targets.unwrap(), ["x86_64-unknown-linux-musl"]);
        let many: CargoOptions = toml::from_str(
            "target = [\"x86_64-unknown-linux-gnu\", \"aarch64-unknown-linux-gnu\"]\noptional-targets = [\"riscv64gc-unknown-linux-gnu\"]",
        )
        .unwrap();
        assert_eq!(many.targets.unwrap().len(), 2);
        assert_eq!(
            many.optional_targets.unwrap(),
            ["riscv64gc-unknown-linux-gnu"]
        );
        let alias: CargoOptions = toml::from_str("targets = [\"a\"]").unwrap();
        assert_eq!(alias.targets.unwrap(), ["a"]);
        assert!(toml::from_str::<CargoOptions>("target = 3").is_err());
        assert!(toml::from_str::<CargoOptions>("target = [1]").is_err());
    }

    #[test]
    fn targets_on_the_command_line_replace_the_optional_ones() {
        let file = CargoOptions {
            targets: Some(vec!["x86_64-unknown-linux-gnu".into()]),
            optional_targets: Some(vec!["aarch64-unknown-linux-gnu".into()]),
            ..Default::default()
        };
        let kept = file.clone().merged(CargoOptions {
            bin: Some("b".into()),
            ..Default::default()
        });
        assert_eq!(kept.optional_targets, file.optional_targets);
        let flags = CargoOptions {
            targets: Some(vec!["aarch64-unknown-linux-gnu".into()]),
            ..Default::default()
        };
        let m = file.merged(flags);
        assert_eq!(m.targets.unwrap(), ["aarch64-unknown-linux-gnu"]);
        assert_eq!(m.optional_targets, None);
    }

    #[test]
    fn two_targets_of_one_platform_are_refused_before_cargo_runs() {
        let opts = CargoOptions {
            targets: Some(vec!["x86_64-unknown-linux-gnu".into()]),
            optional_targets: Some(vec![
                "aarch64-unknown-linux-gnu".into(),
                "x86_64-unknown-linux-musl".into(),
            ]),
            ..Default::default()
        };
        // No rustc is run: the check comes first.
        let env = Environment {
            rustc: Some("/nonexistent/rustc".into()),
            ..Environment::default()
        };
        let e = plan_runs(&opts, Path::new("."), &env).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(
                "x86_64-unknown-linux-gnu and x86_64-unknown-linux-musl both build linux/amd64"
            ),
            "{text}"
        );
        // A rustc that cannot run is an error naming it, not a skipped target.
        let opts = CargoOptions {
            optional_targets: Some(vec!["aarch64-unknown-linux-gnu".into()]),
            ..Default::default()
        };
        let e = plan_runs(&opts, Path::new("."), &env).unwrap_err();
        assert!(e.to_string().contains("rustc -vV"), "{e}");
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
