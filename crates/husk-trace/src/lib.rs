//! husk-trace: runs a program on the host under ptrace and records every path it and its
//! children successfully open, execute, stat, readlink, access or list, so that
//! `husk build --trace` can put exactly those files (and the symlinks on the way to them)
//! into a FROM-scratch image. It owns the tracer and the policy of what a trace may bring
//! into an image; it knows nothing of images, layers or the CLI.
//!
//! How it traces: the child installs a seccomp-bpf filter (`filter.rs`) before it executes
//! the program; the filter stops the process only on the file-related calls listed in
//! `syscalls.rs` and lets every other call run untouched, which is what keeps the overhead
//! below strace's. Children, threads and execs are followed with
//! PTRACE_O_TRACEFORK/VFORK/CLONE/EXEC; EXITKILL makes the tracees die with the tracer.
//! Each stopped call's path is read from the tracee's memory (`process_vm_readv`, bounded by
//! PATH_MAX), made absolute against its directory fd or cwd through `/proc/PID/…` (each
//! tracee's cwd is cached until a chdir), and the call runs to its exit stop to learn its
//! result (stat, access and readlink are answered at entry by the same lookup on the host,
//! sparing that stop): successes are accesses, failures are probes (kept for debugging,
//! never needed), files the program created are listed apart.
//!
//! The integrator's use (`husk build --trace`):
//! ```no_run
//! use husk_trace::{Policy, Scenario, closure_of, trace};
//! # fn main() -> Result<(), husk_trace::TraceError> {
//! let mut s = Scenario::new("/usr/bin/python3", ["-c", "import json"]);
//! s.env = vec![("PATH".into(), "/usr/bin:/bin".into())];
//! s.cwd = "/tmp".into();
//! let t = trace(&s)?;                      // one scenario (`--trace-run` adds more)
//! assert!(t.exit.success() || t.timed_out);  // else show t.stderr (`--trace-allow-failure`)
//! let mut policy = Policy::new(&["/home/me".into()]); // the user's home is never copied
//! policy.exclude("/srv/cache".into());        // `--trace-exclude`
//! policy.include.push("/home/me/app".into()); // `--trace-include`
//! let needed = closure_of(&[t], &policy);    // files, dirs, symlinks; skipped + reasons
//! # Ok(()) }
//! ```
//! `needed.entries` maps each host path to its kind (a symlink carries its target) and the
//! access that led to it (pid, system call) for `--trace-report`; `needed.skipped` says what
//! was left out and why. Every type of the report derives `Serialize`.
//!
//! Limits: x86-64 and aarch64 Linux (5.3+, for PTRACE_GET_SYSCALL_INFO); a process of
//! another ABI (i386, x32) is reported in `Trace::warnings`, not misread. The program runs
//! with `PR_SET_NO_NEW_PRIVS` (setuid bits do not apply), stdin from /dev/null, in its own
//! process group. A `chroot` inside the traced program is not followed. fstat-like calls
//! (`AT_EMPTY_PATH`) are not stopped: they name no path.

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!("husk-trace supports Linux on x86-64 and aarch64 only");

mod classify;
mod closure;
mod decode;
pub mod denied;
mod filter;
mod memory;
mod run;
mod spawn;
mod syscalls;
mod tracer;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub use classify::{Pattern, Policy, Rule, Skip, SkipReason, is_private_key_pem};
pub use closure::{Entry, EntryKind, Needed, closure, closure_of};

/// One traced run: the program, its arguments and environment, and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// A path (relative ones start at `cwd`), or a bare name looked up in the `PATH` of
    /// `env` (else `/usr/bin:/bin`).
    pub program: PathBuf,
    /// The arguments after the program name.
    pub args: Vec<OsString>,
    /// The whole environment of the run (nothing is inherited from the tracer).
    pub env: Vec<(OsString, OsString)>,
    /// The working directory of the run.
    pub cwd: PathBuf,
    /// After this, every traced process gets SIGTERM ...
    pub timeout: Duration,
    /// ... and SIGKILL this much later.
    pub grace: Duration,
    /// The most bytes of stdout, and of stderr, that are kept (the rest is drained).
    pub output_limit: usize,
}

impl Scenario {
    /// A scenario with an empty environment, cwd `/`, a 10 s timeout, a 2 s grace period
    /// and 1 MiB of output kept per stream.
    pub fn new<P, I, A>(program: P, args: I) -> Scenario
    where
        P: Into<PathBuf>,
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        Scenario {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: PathBuf::from("/"),
            timeout: Duration::from_secs(10),
            grace: Duration::from_secs(2),
            output_limit: 1 << 20,
        }
    }
}

/// What a successful call did with its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessKind {
    /// Opened for reading (a file, or a directory as a handle).
    Read,
    /// An existing file opened for writing (O_WRONLY, O_RDWR or O_TRUNC).
    Write,
    /// Executed.
    Exec,
    /// stat, lstat, statx, access, or an O_PATH open: it must exist.
    Stat,
    /// readlink: the link itself.
    Readlink,
    /// Listed (getdents on an open directory).
    List,
    /// Became the working directory.
    Chdir,
}

/// One successful access, the first of its (path, kind, nofollow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// Absolute, with `.` and repeated slashes removed; `..` and symlinks as the program
    /// named them (the closure resolves them on the host).
    pub path: PathBuf,
    pub kind: AccessKind,
    /// The final symlink was not followed (lstat, readlink, O_NOFOLLOW, AT_SYMLINK_NOFOLLOW).
    pub nofollow: bool,
    /// The process (thread) that made the call.
    pub pid: u32,
    /// The system call's name.
    pub syscall: &'static str,
}

/// A call that failed: the program looked for a path (ENOENT on a search path, EACCES).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub path: PathBuf,
    pub pid: u32,
    pub syscall: &'static str,
    pub errno: i32,
}

/// How the traced program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// Its end was not observed (a tracer error cut the run short).
    Unknown,
}

impl Exit {
    /// Exit code 0.
    #[must_use]
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
            Exit::Unknown => write!(f, "unknown exit"),
        }
    }
}

/// The result of one traced run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The program that was executed (after the `PATH` lookup).
    pub program: PathBuf,
    /// Successful accesses, in the order first seen.
    pub accesses: Vec<Access>,
    /// Failed lookups, in the order first seen (not needed; for debugging).
    pub probes: Vec<Probe>,
    /// Paths the programs created (O_CREAT of a new file, mkdir, rename/link/symlink
    /// targets): never copied, nor anything under them.
    pub created: BTreeSet<PathBuf>,
    /// How the program (the first process) ended.
    pub exit: Exit,
    #[serde(skip)]
    pub stdout: Vec<u8>,
    #[serde(skip)]
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    /// The timeout fired: what was accessed until then is recorded.
    pub timed_out: bool,
    pub elapsed: Duration,
    /// Things the tracer could not follow (a process of another ABI).
    pub warnings: Vec<String>,
}

/// Why a trace could not run.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot trace: {program} not found in PATH ({path}); give its full path")]
    ProgramNotFound { program: PathBuf, path: String },
    #[error(
        "cannot trace: the {what} {value:?} cannot be passed to a program (NUL byte or bad name)"
    )]
    NulByte { what: &'static str, value: String },
    #[error("cannot trace: failed to {what}: {source}")]
    Setup {
        what: &'static str,
        source: std::io::Error,
    },
    #[error(
        "cannot trace: the working directory {cwd} cannot be entered: {source}; create it or choose another"
    )]
    Chdir {
        cwd: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot trace: executing {program} failed: {source}; check that it exists and is executable"
    )]
    Exec {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot trace: ptrace is not permitted ({source}): {fix}")]
    PtraceDenied { source: std::io::Error, fix: String },
    #[error("cannot trace: the seccomp filter was refused ({source}): {fix}")]
    SeccompDenied { source: std::io::Error, fix: String },
    #[error("cannot trace: failed to {what}: {source}")]
    Ptrace {
        what: &'static str,
        source: std::io::Error,
    },
    #[error(
        "cannot trace: this kernel lacks PTRACE_GET_SYSCALL_INFO ({source}); tracing needs Linux 5.3 or later"
    )]
    KernelTooOld { source: std::io::Error },
    #[error("tracing failed while waiting for the traced processes: {source}")]
    Wait { source: std::io::Error },
}

/// Runs `scenario` under the tracer until every process it started has exited (or the
/// timeout stopped them) and returns what they accessed, with exit status and output.
/// Blocks the calling thread, which becomes the tracer; several threads may trace at once.
///
/// # Errors
/// The program cannot be found or executed, the working directory cannot be entered,
/// ptrace or seccomp is not permitted here (the error says how to allow it), or the kernel
/// is older than 5.3. A program that fails or is killed is not an error: see [`Trace::exit`].
pub fn trace(scenario: &Scenario) -> Result<Trace, TraceError> {
    run::trace(scenario)
}
