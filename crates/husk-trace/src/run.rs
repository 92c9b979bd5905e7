//! One traced run from start to end: spawn, the ptrace loop, the timeout (SIGTERM to the
//! process group and every tracee, SIGKILL after the grace period) and the bounded capture
//! of stdout and stderr, each on its own thread so a chatty program never blocks.

use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::spawn::{self, Step};
use crate::tracer::{self, Live, Tracer};
use crate::{Exit, Scenario, Trace, TraceError, denied};

/// Reads a pipe to its end, keeping the first `limit` bytes.
fn capture(mut f: File, limit: usize) -> JoinHandle<(Vec<u8>, bool)> {
    std::thread::spawn(move || {
        let (mut kept, mut truncated) = (Vec::new(), false);
        let mut buf = [0u8; 16 * 1024];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = limit.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    truncated |= n > room;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        (kept, truncated)
    })
}

fn signal_all(live: &Live, root: Pid, sig: Signal) {
    let _ = killpg(root, sig);
    if let Ok(l) = live.lock() {
        for pid in l.iter() {
            let _ = kill(Pid::from_raw(*pid), sig);
        }
    }
}

/// The timeout: waits for `done` (the trace ended) or the deadline; then SIGTERM, then
/// SIGKILL after the grace period. Sets `timed_out` if it had to signal.
fn watchdog(
    live: Live,
    root: Pid,
    timeout: Duration,
    grace: Duration,
    timed_out: Arc<AtomicBool>,
) -> (mpsc::Sender<()>, JoinHandle<()>) {
    let (done, rx) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        if rx.recv_timeout(timeout) != Err(RecvTimeoutError::Timeout) {
            return;
        }
        timed_out.store(true, Ordering::SeqCst);
        signal_all(&live, root, Signal::SIGTERM);
        if rx.recv_timeout(grace) == Err(RecvTimeoutError::Timeout) {
            signal_all(&live, root, Signal::SIGKILL);
        }
    });
    (done, handle)
}

/// Turns a failed setup step of the child into the error that says how to fix it.
fn setup_error(s: &Scenario, program: &std::path::Path, step: Step, errno: i32) -> TraceError {
    let source = std::io::Error::from_raw_os_error(errno);
    match step {
        Step::Stdio => TraceError::Setup {
            what: "connect the program's stdin/stdout/stderr",
            source,
        },
        Step::Chdir => TraceError::Chdir {
            cwd: s.cwd.clone(),
            source,
        },
        Step::TraceMe => TraceError::PtraceDenied {
            source,
            fix: denied::ptrace_fix(&denied::HostFacts::read()),
        },
        Step::NoNewPrivs | Step::Seccomp => TraceError::SeccompDenied {
            source,
            fix: denied::seccomp_fix(),
        },
        Step::Exec => TraceError::Exec {
            program: program.to_path_buf(),
            source,
        },
    }
}

/// See [`crate::trace`].
pub(crate) fn trace(s: &Scenario) -> Result<Trace, TraceError> {
    let program = spawn::resolve_program(s)?;
    let mut child = spawn::spawn(s, &program)?;
    let root = child.pid;
    let stdout = capture(child.stdout, s.output_limit);
    let stderr = capture(child.stderr, s.output_limit);
    let started = Instant::now();
    if let Some(exit) = tracer::first_stop(root)? {
        return Err(match spawn::read_failure(&mut child.errors) {
            Some((step, errno)) => setup_error(s, &program, step, errno),
            None => TraceError::Setup {
                what: "start the traced process",
                source: std::io::Error::other(format!(
                    "it ended before it could be traced ({exit})"
                )),
            },
        });
    }
    let live: Live = Arc::new(Mutex::new(Default::default()));
    let timed_out = Arc::new(AtomicBool::new(false));
    let mut tracer = Tracer::new(root, live.clone());
    let (done, dog) = watchdog(live.clone(), root, s.timeout, s.grace, timed_out.clone());
    let result = tracer.run();
    if result.is_err() {
        signal_all(&live, root, Signal::SIGKILL);
        tracer.drain();
    }
    drop(done);
    let _ = dog.join();
    result?;
    if !tracer.root_execd
        && let Some((step, errno)) = spawn::read_failure(&mut child.errors)
    {
        return Err(setup_error(s, &program, step, errno));
    }
    let (stdout, stdout_truncated) = stdout.join().unwrap_or_default();
    let (stderr, stderr_truncated) = stderr.join().unwrap_or_default();
    Ok(Trace {
        program,
        accesses: tracer.rec.accesses,
        probes: tracer.rec.probes,
        created: tracer.rec.created,
        exit: tracer.root_exit.unwrap_or(Exit::Unknown),
        stdout,
        stderr,
        stdout_truncated,
        stderr_truncated,
        timed_out: timed_out.load(Ordering::SeqCst),
        elapsed: started.elapsed(),
        warnings: tracer.warnings,
    })
}
