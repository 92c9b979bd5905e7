//! `husk build --check`: the built image, run with podman the way production should run
//! it (`--read-only --cap-drop=ALL --network=none`, as its own user), must do what the
//! program did on the host: the same exit code and the same stdout, per scenario (the
//! traced runs, or one untraced host run of the baked args without `--trace`).
//!
//! podman is driven through its CLI, like husk-formats' `load`; the caller loads the
//! image first and names it by its image ID (the config digest).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::BuildError;
use crate::options::BuildRequest;
use crate::trace::{RunResult, command_line};

/// How much of each stream is kept.
const OUTPUT_LIMIT: usize = 1 << 20;
/// podman's own start and stop on top of the program's time.
const PODMAN_SLACK: Duration = Duration::from_secs(60);

/// How one run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code; None when killed by a signal or stopped at the timeout.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// One scenario to compare: its arguments, the host's outcome, and what the container
/// run needs besides the image's own settings.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub args: Vec<String>,
    /// `--trace-env` values, passed with `-e`.
    pub extra_env: Vec<(String, String)>,
    /// `--trace-workdir`, passed with `-w`.
    pub workdir: Option<PathBuf>,
    pub host: Outcome,
    pub timeout: Duration,
}

impl From<&RunResult> for Outcome {
    fn from(r: &RunResult) -> Outcome {
        Outcome {
            code: match r.exit {
                husk_trace::Exit::Code(c) => Some(c),
                _ => None,
            },
            stdout: r.stdout.clone(),
            stderr: r.stderr.clone(),
        }
    }
}

/// The runs to check: the traced ones (a run the timeout stopped, a server, is left out:
/// its output has no end to compare), or, without `--trace`, the baked args run once on
/// the host now, untraced.
///
/// # Errors
/// The host run cannot start.
pub fn runs(req: &BuildRequest, traced: Option<&[RunResult]>) -> Result<Vec<CheckRun>, BuildError> {
    if let (Some(traced), Some(spec)) = (traced, &req.trace) {
        return Ok(traced
            .iter()
            .filter(|r| !r.timed_out)
            .map(|r| CheckRun {
                args: r.args.clone(),
                extra_env: spec.env.clone(),
                workdir: spec.workdir.clone(),
                host: r.into(),
                timeout: spec.timeout,
            })
            .collect());
    }
    let env: Vec<(String, String)> = crate::build::config_env(req)
        .iter()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let cwd = req
        .config
        .workdir
        .as_ref()
        .map(|w| PathBuf::from(w.to_string()))
        .filter(|w| w.is_dir())
        .unwrap_or_else(|| PathBuf::from("/"));
    let timeout = Duration::from_secs(10);
    let mut cmd = Command::new(&req.entrypoint);
    cmd.args(&req.args).env_clear().envs(env).current_dir(cwd);
    let host = run_bounded(cmd, timeout, &req.entrypoint)?;
    Ok(vec![CheckRun {
        args: req.args.clone(),
        extra_env: Vec::new(),
        workdir: None,
        host,
        timeout,
    }])
}

/// The arguments of `podman` for one run of `image` (an image ID).
#[must_use]
pub fn podman_args(req: &BuildRequest, image: &str, run: &CheckRun) -> Vec<String> {
    let mut a: Vec<String> = [
        "run",
        "--rm",
        "--read-only",
        "--cap-drop=ALL",
        "--network=none",
        "--pull=never",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    a.push(format!(
        "--user={}:{}",
        req.config.user.uid, req.config.user.gid
    ));
    // Exec form, so the scenario's args replace the baked ones (and any Cmd).
    a.push(format!(
        "--entrypoint={}",
        serde_json::json!([req.dest.to_string()])
    ));
    for (k, v) in &run.extra_env {
        a.push(format!("--env={k}={v}"));
    }
    if let Some(w) = &run.workdir {
        a.push(format!("--workdir={}", w.display()));
    }
    a.push(image.to_owned());
    a.extend(run.args.iter().cloned());
    a
}

/// Runs one scenario in podman and compares it with the host.
///
/// # Errors
/// [`BuildError::Check`] when podman is missing or cannot run the image, or when the exit
/// code or stdout differ (both outputs shown).
pub fn check_one(req: &BuildRequest, image: &str, run: &CheckRun) -> Result<(), BuildError> {
    let mut cmd = Command::new("podman");
    cmd.args(podman_args(req, image, run));
    let got = run_bounded(cmd, run.timeout + PODMAN_SLACK, Path::new("podman"))?;
    compare(
        &command_line(Path::new(&req.dest.to_string()), &run.args),
        &run.host,
        &got,
    )
}

/// Equal exit code and stdout, else an error showing both runs.
///
/// # Errors
/// [`BuildError::Check`] with both outputs.
pub fn compare(command: &str, host: &Outcome, image: &Outcome) -> Result<(), BuildError> {
    if host.code == image.code && host.stdout == image.stdout {
        return Ok(());
    }
    let show = |o: &Outcome| {
        format!(
            "exit {}\n  stdout: {}\n  stderr: {}",
            o.code
                .map_or_else(|| "by a signal or the timeout".into(), |c| c.to_string()),
            String::from_utf8_lossy(&o.stdout)
                .trim_end()
                .replace('\n', "\n          "),
            String::from_utf8_lossy(&o.stderr)
                .trim_end()
                .replace('\n', "\n          "),
        )
    };
    Err(BuildError::Check(format!(
        "the image does not run `{command}` like the host does; trace it (--trace, --trace-run) or add what it misses with --file\n\
         on the host: {}\nin the image: {}",
        show(host),
        show(image)
    )))
}

/// Runs `cmd` with stdin from /dev/null, keeping the first MiB of each stream, and kills
/// it after `timeout`.
fn run_bounded(mut cmd: Command, timeout: Duration, what: &Path) -> Result<Outcome, BuildError> {
    let started = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = started.map_err(|e| {
        BuildError::Check(if e.kind() == std::io::ErrorKind::NotFound && what == Path::new("podman") {
            "podman is not installed (or not on PATH); install podman to run the image, or drop --check".into()
        } else {
            format!("cannot run {}: {e}", what.display())
        })
    })?;
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let code = wait_until(&mut child, timeout);
    Ok(Outcome {
        code,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

fn reader<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(r) = r {
            let _ = r.take(OUTPUT_LIMIT as u64).read_to_end(&mut kept);
        }
        kept
    })
}

/// The exit code, or None when it was killed (by a signal, or here at the timeout).
fn wait_until(child: &mut Child, timeout: Duration) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.code(),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(code: i32, out: &str) -> Outcome {
        Outcome {
            code: Some(code),
            stdout: out.into(),
            stderr: b"some\nwarning".to_vec(),
        }
    }

    #[test]
    fn equal_runs_pass_and_differences_show_both() {
        assert!(compare("x", &outcome(0, "1\n"), &outcome(0, "1\n")).is_ok());
        let e = compare("py -c 1", &outcome(0, "1\n"), &outcome(1, "")).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("on the host: exit 0") && e.contains("in the image: exit 1"),
            "{e}"
        );
        assert!(e.contains("stdout: 1") && e.contains("warning"), "{e}");
        assert!(compare("x", &outcome(0, "a"), &outcome(0, "b")).is_err());
    }

    #[test]
    fn a_slow_program_is_stopped() {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "echo start; exec sleep 30"]);
        let o = run_bounded(cmd, Duration::from_millis(300), Path::new("/bin/sh")).unwrap();
        assert_eq!(o.code, None);
        assert_eq!(o.stdout, b"start\n");
    }

    #[test]
    fn a_missing_podman_is_named() {
        let cmd = Command::new("/nonexistent/husk-no-such-program");
        let e = run_bounded(cmd, Duration::from_secs(1), Path::new("podman")).unwrap_err();
        assert!(e.to_string().contains("podman is not installed"), "{e}");
    }
}
