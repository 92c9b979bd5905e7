//! Starting the traced child: everything it needs is prepared before `fork` (C strings,
//! the BPF program, pipes), so the child only makes async-signal-safe system calls:
//! new process group, stdio, cwd, `PTRACE_TRACEME`, `PR_SET_NO_NEW_PRIVS`, a `SIGSTOP`
//! for the tracer to set its options, the seccomp filter, then `execve`.
//!
//! std's `Command` cannot be used: its `spawn` waits for the exec, and this child stops
//! before it (for the tracer) and then stops again on the filter's first traced call.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::unistd::{ForkResult, Pid};

use crate::{Scenario, TraceError, filter};

/// The step of the child's setup that failed, sent to the parent with its errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Step {
    Stdio = 1,
    Chdir = 2,
    TraceMe = 3,
    NoNewPrivs = 4,
    Seccomp = 5,
    Exec = 6,
}

impl Step {
    fn from_u32(v: u32) -> Option<Step> {
        [
            Step::Stdio,
            Step::Chdir,
            Step::TraceMe,
            Step::NoNewPrivs,
            Step::Seccomp,
            Step::Exec,
        ]
        .into_iter()
        .find(|s| *s as u32 == v)
    }
}

/// The running child and the parent's ends of its pipes.
pub(crate) struct Child {
    pub pid: Pid,
    pub stdout: File,
    pub stderr: File,
    /// Readable end of the CLOEXEC pipe: EOF once the child executed the program,
    /// `(Step, errno)` if a setup step failed.
    pub errors: File,
}

fn cstring(what: &'static str, value: &OsStr) -> Result<CString, TraceError> {
    CString::new(value.as_bytes()).map_err(|_| TraceError::NulByte {
        what,
        value: value.to_string_lossy().into_owned(),
    })
}

fn pipe(what: &'static str) -> Result<(OwnedFd, OwnedFd), TraceError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| TraceError::Setup {
        what,
        source: e.into(),
    })
}

/// The program to execute: a path with a `/` as given (relative to the scenario's cwd),
/// else the first executable match in the scenario's `PATH` (or `/usr/bin:/bin`).
pub(crate) fn resolve_program(s: &Scenario) -> Result<PathBuf, TraceError> {
    if s.program.as_os_str().as_bytes().contains(&b'/') {
        return Ok(s.cwd.join(&s.program));
    }
    let path = s
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or(OsStr::new("/usr/bin:/bin"), |(_, v)| v.as_os_str());
    std::env::split_paths(path)
        .map(|dir| s.cwd.join(dir).join(&s.program))
        .find(|p| is_executable(p))
        .ok_or_else(|| TraceError::ProgramNotFound {
            program: s.program.clone(),
            path: path.to_string_lossy().into_owned(),
        })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Everything the child needs, allocated before `fork`.
struct Prepared {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    cwd: CString,
    filter: Vec<libc::sock_filter>,
    null: File,
}

fn prepare(s: &Scenario, program: &Path) -> Result<Prepared, TraceError> {
    let mut argv = vec![cstring("program", program.as_os_str())?];
    for a in &s.args {
        argv.push(cstring("argument", a)?);
    }
    let mut envp = Vec::with_capacity(s.env.len());
    for (k, v) in &s.env {
        if k.as_bytes().contains(&b'=') || k.is_empty() {
            return Err(TraceError::NulByte {
                what: "environment variable name (empty or with '=')",
                value: k.to_string_lossy().into_owned(),
            });
        }
        let mut kv = k.clone();
        kv.push("=");
        kv.push(v);
        envp.push(cstring("environment variable", &kv)?);
    }
    let null = File::open("/dev/null").map_err(|source| TraceError::Setup {
        what: "open /dev/null for the program's stdin",
        source,
    })?;
    Ok(Prepared {
        program: cstring("program", program.as_os_str())?,
        argv,
        envp,
        cwd: cstring("working directory", s.cwd.as_os_str())?,
        filter: filter::program(),
        null,
    })
}

/// Forks the child; it is stopped (SIGSTOP) or already gone when this returns.
pub(crate) fn spawn(s: &Scenario, program: &Path) -> Result<Child, TraceError> {
    let p = prepare(s, program)?;
    let (out_r, out_w) = pipe("create the stdout pipe")?;
    let (err_r, err_w) = pipe("create the stderr pipe")?;
    let (fail_r, fail_w) = pipe("create the exec-status pipe")?;
    let mut argv: Vec<*const libc::c_char> = p.argv.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = p.envp.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    let fds = [p.null.as_raw_fd(), out_w.as_raw_fd(), err_w.as_raw_fd()];
    // SAFETY: the child only runs `child_main`, which makes raw system calls on memory
    // prepared above and never returns (it execs or `_exit`s).
    match unsafe { nix::unistd::fork() } {
        Err(e) => Err(TraceError::Setup {
            what: "fork the traced process",
            source: e.into(),
        }),
        Ok(ForkResult::Child) => {
            let (step, errno) = child_main(&p, &argv, &envp, fds);
            let msg = [(step as u32).to_ne_bytes(), errno.to_ne_bytes()].concat();
            // SAFETY: async-signal-safe calls on a valid buffer; `_exit` never returns.
            unsafe {
                libc::write(fail_w.as_raw_fd(), msg.as_ptr().cast(), msg.len());
                libc::_exit(127)
            }
        }
        Ok(ForkResult::Parent { child }) => Ok(Child {
            pid: child,
            stdout: File::from(out_r),
            stderr: File::from(err_r),
            errors: File::from(fail_r),
        }),
    }
}

/// The child's setup. Returns only on failure, with the step and its errno.
fn child_main(
    p: &Prepared,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    fds: [libc::c_int; 3],
) -> (Step, u32) {
    let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(0) as u32;
    // SAFETY: raw system calls with valid arguments; only async-signal-safe functions.
    unsafe {
        // Default dispositions and an empty mask: Rust ignores SIGPIPE, and an ignored
        // signal stays ignored across exec.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        // Own process group, so the timeout can signal the whole tree at once.
        libc::setpgid(0, 0);
        for (target, fd) in fds.iter().enumerate() {
            if libc::dup2(*fd, target as libc::c_int) < 0 {
                return (Step::Stdio, errno());
            }
        }
        if libc::chdir(p.cwd.as_ptr()) != 0 {
            return (Step::Chdir, errno());
        }
        if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
            return (Step::TraceMe, errno());
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return (Step::NoNewPrivs, errno());
        }
        // The tracer sets its options (TRACESECCOMP first of all) while we are stopped:
        // a traced call with no tracer option set would fail with ENOSYS.
        libc::raise(libc::SIGSTOP);
        let prog = libc::sock_fprog {
            len: p.filter.len() as libc::c_ushort,
            filter: p.filter.as_ptr().cast_mut(),
        };
        let mode = libc::SECCOMP_SET_MODE_FILTER as libc::c_long;
        if libc::syscall(libc::SYS_seccomp, mode, 0, &prog as *const libc::sock_fprog) != 0 {
            return (Step::Seccomp, errno());
        }
        libc::execve(p.program.as_ptr(), argv.as_ptr(), envp.as_ptr());
        (Step::Exec, errno())
    }
}

/// What the child reported on its exec-status pipe: `None` if it executed the program.
pub(crate) fn read_failure(errors: &mut File) -> Option<(Step, i32)> {
    let mut buf = [0u8; 8];
    let mut got = 0;
    while got < buf.len() {
        match errors.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if got < buf.len() {
        return None;
    }
    let step = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
    Step::from_u32(step).map(|s| (s, errno))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn failure_protocol_round_trips_and_eof_means_exec() {
        let (r, w) = pipe("test").unwrap();
        let mut w = File::from(w);
        w.write_all(&[(Step::Seccomp as u32).to_ne_bytes(), 22i32.to_ne_bytes()].concat())
            .unwrap();
        drop(w);
        assert_eq!(read_failure(&mut File::from(r)), Some((Step::Seccomp, 22)));
        let (r, w) = pipe("test").unwrap();
        drop(w);
        assert_eq!(read_failure(&mut File::from(r)), None);
        // A short or unknown message is not a failure report.
        let (r, w) = pipe("test").unwrap();
        let mut w = File::from(w);
        w.write_all(&[99u8, 0, 0, 0, 1, 0, 0, 0]).unwrap();
        drop(w);
        assert_eq!(read_failure(&mut File::from(r)), None);
    }
}
