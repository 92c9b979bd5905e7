//! The trace phase of `husk build --trace`: runs the entrypoint under husk-trace once per
//! scenario (the baked args, then each `--trace-run`), turns the union of what the runs
//! opened, executed, listed and stat'ed into the "traced files" layer, and keeps the runs'
//! exit and output for `--check` and what was added and skipped for `--trace-report`.
//!
//! Traced files keep their host paths. They go into their own layer between the
//! libraries and the application: an interpreter's standard library or a tool's plugins
//! change with the host's packages, not with the app, so an app-only change keeps the
//! layer. A path another layer already plans is left to that layer (one copy).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use husk_layer::{Entry, FileSource, ImagePath, LayerPlan, policy_mode};
use husk_trace::{EntryKind, Needed, Policy, Scenario, Trace};
use serde::Serialize;

use crate::BuildError;
use crate::build::Plans;
use crate::options::BuildRequest;

/// What `--trace` and its options asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSpec {
    /// The argument lists of the runs: the baked args first, then each `--trace-run`.
    pub runs: Vec<Vec<String>>,
    pub timeout: Duration,
    /// `--trace-env`, over the image's environment.
    pub env: Vec<(String, String)>,
    /// `--trace-workdir` (default: the image's workdir when it exists on the host, else `/`).
    pub workdir: Option<PathBuf>,
    pub excludes: Vec<PathBuf>,
    pub includes: Vec<PathBuf>,
    pub allow_failure: bool,
    /// The user's home (never copied unless included); `/root` always is one.
    pub homes: Vec<PathBuf>,
}

/// One traced run as the host saw it.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub args: Vec<String>,
    /// The environment the run had (the image's, then `--trace-env`).
    #[serde(skip)]
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub exit: husk_trace::Exit,
    pub timed_out: bool,
    pub elapsed_ms: u128,
    #[serde(skip)]
    pub stdout: Vec<u8>,
    #[serde(skip)]
    pub stderr: Vec<u8>,
}

/// What the trace found, and what of it went into the traced layer.
#[derive(Debug, Clone)]
pub struct Traced {
    pub runs: Vec<RunResult>,
    pub needed: Needed,
    /// Needed host paths another layer already holds (not repeated in the traced layer).
    pub elsewhere: Vec<PathBuf>,
}

/// The build summary's part about the trace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TraceSummary {
    /// Entries the traced layer holds.
    pub added: usize,
    /// Entries of the traced layer per top-level directory (`/usr`, `/etc`).
    pub added_per_top: BTreeMap<String, usize>,
    /// Skipped paths per reason (`system-tree`, `secret`, `home`, `created`, ...).
    pub skipped_per_reason: BTreeMap<String, usize>,
    /// Needed paths that were already in another layer.
    pub in_other_layers: usize,
}

/// `--trace-report`: every needed path with the call that led to it, and every skip.
#[derive(Debug, Serialize)]
pub struct TraceReport<'a> {
    pub scenarios: &'a [RunResult],
    pub added: Vec<ReportEntry<'a>>,
    pub skipped: &'a BTreeMap<PathBuf, husk_trace::Skip>,
}

/// One needed path of the report.
#[derive(Debug, Serialize)]
pub struct ReportEntry<'a> {
    pub path: &'a Path,
    pub kind: &'a EntryKind,
    /// `traced` (the traced files layer), or `other-layer` when the libraries or the app
    /// layer holds it already.
    pub layer: &'static str,
    pub pid: u32,
    pub syscall: &'static str,
    pub access: husk_trace::AccessKind,
}

impl Traced {
    /// The `--trace-report` document.
    #[must_use]
    pub fn report(&self) -> TraceReport<'_> {
        let added = self
            .needed
            .entries
            .iter()
            .map(|(path, e)| ReportEntry {
                path,
                kind: &e.kind,
                layer: if self.elsewhere.contains(path) {
                    "other-layer"
                } else {
                    "traced"
                },
                pid: e.via.pid,
                syscall: e.via.syscall,
                access: e.via.kind,
            })
            .collect();
        TraceReport {
            scenarios: &self.runs,
            added,
            skipped: &self.needed.skipped,
        }
    }
}

/// The working directory of the traced runs: `--trace-workdir`, else the image's
/// workdir when the host has that directory, else `/`.
fn workdir(req: &BuildRequest, spec: &TraceSpec) -> Result<PathBuf, BuildError> {
    if let Some(w) = &spec.workdir {
        if !w.is_dir() {
            return Err(BuildError::TraceWorkdir { path: w.clone() });
        }
        return Ok(w.clone());
    }
    Ok(req
        .config
        .workdir
        .as_ref()
        .map(|w| PathBuf::from(w.to_string()))
        .filter(|w| w.is_dir())
        .unwrap_or_else(|| PathBuf::from("/")))
}

/// The environment of a run: the image's `KEY=VALUE`s, then `--trace-env` over them.
fn run_env(image_env: &[String], spec: &TraceSpec) -> Vec<(String, String)> {
    let mut env: BTreeMap<String, String> = image_env
        .iter()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    env.extend(spec.env.iter().cloned());
    env.into_iter().collect()
}

/// Runs every scenario (in parallel: each traced run is its own tracer thread) and
/// returns the traces with the closure of what they need.
///
/// # Errors
/// A trace that cannot run ([`BuildError::Trace`], saying how to allow ptrace), a run that
/// failed without `--trace-allow-failure` ([`BuildError::TraceFailed`], with its stderr),
/// or a bad `--trace-workdir`.
pub fn run(
    req: &BuildRequest,
    spec: &TraceSpec,
    image_env: &[String],
) -> Result<Traced, BuildError> {
    let cwd = workdir(req, spec)?;
    let env = run_env(image_env, spec);
    let scenarios: Vec<Scenario> = spec
        .runs
        .iter()
        .map(|args| {
            let mut s = Scenario::new(&req.entrypoint, args);
            s.env = env.iter().map(|(k, v)| (k.into(), v.into())).collect();
            s.cwd = cwd.clone();
            s.timeout = spec.timeout;
            s
        })
        .collect();
    let results: Vec<Result<Trace, husk_trace::TraceError>> = std::thread::scope(|sc| {
        let handles: Vec<_> = scenarios
            .iter()
            .map(|s| sc.spawn(move || husk_trace::trace(s)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a trace thread does not panic"))
            .collect()
    });
    let mut traces = Vec::new();
    let mut runs = Vec::new();
    for (args, t) in spec.runs.iter().zip(results) {
        let t = t?;
        if !t.exit.success() && !t.timed_out && !spec.allow_failure {
            return Err(BuildError::TraceFailed {
                command: command_line(&req.entrypoint, args),
                exit: t.exit.to_string(),
                stderr: String::from_utf8_lossy(&t.stderr).trim_end().to_owned(),
            });
        }
        runs.push(RunResult {
            args: args.clone(),
            env: env.clone(),
            cwd: cwd.clone(),
            exit: t.exit,
            timed_out: t.timed_out,
            elapsed_ms: t.elapsed.as_millis(),
            stdout: t.stdout.clone(),
            stderr: t.stderr.clone(),
        });
        traces.push(t);
    }
    let needed = husk_trace::closure_of(&traces, &policy(req, spec));
    Ok(Traced {
        runs,
        needed,
        elsewhere: Vec::new(),
    })
}

/// The skip table: the default one with the homes, `--trace-exclude` trees, and
/// `--trace-include` paths plus the entrypoint itself (packaging `~/bin/tool` must not
/// drop the tool).
fn policy(req: &BuildRequest, spec: &TraceSpec) -> Policy {
    let mut policy = Policy::new(&spec.homes);
    for e in &spec.excludes {
        policy.exclude(e.clone());
    }
    policy.include = spec.includes.clone();
    policy.include.push(req.entrypoint.clone());
    policy
}

/// `program arg...`, shell-quoted, for messages.
#[must_use]
pub fn command_line(program: &Path, args: &[String]) -> String {
    let prog = program.to_string_lossy();
    std::iter::once(prog.as_ref())
        .chain(args.iter().map(String::as_str))
        .map(|a| shlex::try_quote(a).map_or_else(|_| format!("{a:?}"), |q| q.into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn image_path(host: &Path) -> Result<ImagePath, BuildError> {
    ImagePath::parse(&host.to_string_lossy()).map_err(|source| BuildError::TracedPath {
        path: host.to_path_buf(),
        source,
    })
}

/// The programs among the needed files: ELF executables with a program interpreter (what
/// the traced runs executed), whose DT_NEEDED closure goes into the library layer.
#[must_use]
pub fn program_roots(needed: &Needed) -> Vec<(ImagePath, PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let mut roots = Vec::new();
    for (path, e) in &needed.entries {
        let executable = std::fs::metadata(path)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        if e.kind != EntryKind::File || !executable {
            continue;
        }
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let program = husk_elf::is_elf(&bytes)
            && husk_elf::parse_elf(&bytes, path).is_ok_and(|i| i.interpreter.is_some());
        if let (true, Ok(img)) = (program, image_path(path)) {
            roots.push((img, path.clone()));
        }
    }
    roots
}

/// Whether a lower layer or the app layer plans `path`.
fn planned_elsewhere(plans: &Plans, path: &ImagePath) -> bool {
    [&plans.system, &plans.libraries, &plans.app]
        .iter()
        .any(|p| p.get(path).is_some())
}

/// Fills the traced layer from the closure. Directories a lower layer planned with their
/// own mode (`/tmp` 1777, the home 0700) are repeated as they are on the way to a traced
/// file, so the layer's implicit 0755 parents never change them.
///
/// # Errors
/// A path that is not a valid image path, a symlink target that is not UTF-8, a host file
/// that vanished, or a plan conflict.
pub fn plan_traced(traced: &mut Traced, plans: &mut Plans) -> Result<TraceSummary, BuildError> {
    let mut summary = TraceSummary::default();
    let mut layer = LayerPlan::new();
    for (host, e) in &traced.needed.entries {
        let path = image_path(host)?;
        if path.is_root() {
            continue;
        }
        if planned_elsewhere(plans, &path) {
            traced.elsewhere.push(host.clone());
            continue;
        }
        let entry = match &e.kind {
            EntryKind::Dir => Entry::dir(),
            EntryKind::Symlink(target) => Entry::symlink(target.to_string_lossy().into_owned()),
            EntryKind::File => {
                let meta = std::fs::metadata(host).map_err(|source| BuildError::Io {
                    path: host.clone(),
                    source,
                })?;
                use std::os::unix::fs::PermissionsExt;
                Entry::file(
                    FileSource::Host(host.clone()),
                    policy_mode(meta.permissions().mode(), false),
                )
            }
        };
        keep_lower_parents(plans, &mut layer, &path)?;
        layer.add(path.clone(), entry)?;
        *summary.added_per_top.entry(top_dir(&path)).or_default() += 1;
        summary.added += 1;
    }
    for s in traced.needed.skipped.values() {
        let reason = serde_json::to_value(s.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        *summary.skipped_per_reason.entry(reason).or_default() += 1;
    }
    summary.in_other_layers = traced.elsewhere.len();
    plans.traced = layer;
    Ok(summary)
}

fn keep_lower_parents(
    plans: &Plans,
    layer: &mut LayerPlan,
    path: &ImagePath,
) -> Result<(), BuildError> {
    for anc in path.ancestors() {
        if anc == *path || anc.is_root() || layer.get(&anc).is_some() {
            continue;
        }
        if let Some(e) = plans.system.get(&anc).or_else(|| plans.libraries.get(&anc))
            && e.kind.is_dir()
        {
            layer.add(anc.clone(), e.clone())?;
        }
    }
    Ok(())
}

/// `/usr` of `/usr/lib/x`; `/` for a top-level entry's own name.
fn top_dir(path: &ImagePath) -> String {
    let s = path.to_string();
    match s.trim_start_matches('/').split_once('/') {
        Some((top, _)) => format!("/{top}"),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needed_file(path: &Path) -> Needed {
        let mut needed = Needed::default();
        needed.entries.insert(
            path.to_path_buf(),
            husk_trace::Entry {
                kind: EntryKind::File,
                via: husk_trace::Access {
                    path: path.to_path_buf(),
                    kind: husk_trace::AccessKind::Read,
                    nofollow: false,
                    pid: 7,
                    syscall: "openat",
                },
            },
        );
        needed
    }

    #[test]
    fn lower_directory_modes_survive_and_other_layers_keep_their_paths() {
        let dir = tempfile::tempdir_in("/tmp").unwrap();
        let file = dir.path().join("data.txt");
        std::fs::write(&file, "x").unwrap();
        let mut plans = Plans::default();
        let mut tmp = Entry::dir();
        tmp.mode = 0o1777;
        plans
            .system
            .add(ImagePath::parse("/tmp").unwrap(), tmp.clone())
            .unwrap();
        let mut traced = Traced {
            runs: vec![],
            needed: needed_file(&file),
            elsewhere: vec![],
        };
        let summary = plan_traced(&mut traced, &mut plans).unwrap();
        assert_eq!(summary.added, 1);
        assert_eq!(
            plans.traced.get(&ImagePath::parse("/tmp").unwrap()),
            Some(&tmp)
        );
        let img = image_path(&file).unwrap();
        assert_eq!(plans.traced.get(&img).unwrap().mode, 0o444);

        // The same path already in the app layer is not repeated.
        let mut plans2 = Plans::default();
        plans2
            .app
            .add(
                img.clone(),
                Entry::file(FileSource::Host(file.clone()), 0o444),
            )
            .unwrap();
        let summary = plan_traced(&mut traced, &mut plans2).unwrap();
        assert_eq!((summary.added, summary.in_other_layers), (0, 1));
        assert!(plans2.traced.is_empty());
        assert_eq!(traced.report().added[0].layer, "other-layer");
    }

    #[test]
    fn top_directories() {
        assert_eq!(top_dir(&ImagePath::parse("/usr/lib/x").unwrap()), "/usr");
        assert_eq!(top_dir(&ImagePath::parse("/lib64").unwrap()), "/lib64");
    }

    #[test]
    fn command_lines_are_quoted() {
        let c = command_line(
            Path::new("/usr/bin/python3"),
            &["-c".into(), "print(1)".into()],
        );
        assert_eq!(c, "/usr/bin/python3 -c 'print(1)'");
    }

    #[test]
    fn the_run_environment_is_the_image_s_with_trace_env_over_it() {
        let spec = TraceSpec {
            runs: vec![],
            timeout: Duration::from_secs(1),
            env: vec![("PATH".into(), "/x".into()), ("A".into(), "b=c".into())],
            workdir: None,
            excludes: vec![],
            includes: vec![],
            allow_failure: false,
            homes: vec![],
        };
        let env = run_env(&["PATH=/usr/bin".into(), "SSL_CERT_FILE=/c".into()], &spec);
        assert_eq!(
            env,
            [
                ("A".into(), "b=c".into()),
                ("PATH".into(), "/x".into()),
                ("SSL_CERT_FILE".into(), "/c".into())
            ]
        );
    }
}
