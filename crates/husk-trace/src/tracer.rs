//! The ptrace loop: one thread (the one that forked the child, as ptrace requires) waits
//! for its tracees only (`__WALL | __WNOTHREAD`, so tracers in other threads of the same
//! process never steal each other's events) and answers each stop.
//!
//! Stops and what they mean:
//! - seccomp stop (`PTRACE_EVENT_SECCOMP`): the entry of a traced call; its path is read
//!   now, then `PTRACE_SYSCALL` runs it to its exit stop;
//! - syscall-exit stop (`PtraceSyscall`, TRACESYSGOOD): the result; `PTRACE_CONT` after
//!   it, so untraced calls run at full speed;
//! - fork/vfork/clone events: a new tracee (it also starts with a SIGSTOP we swallow);
//! - exec event: the exec succeeded. A non-leader thread that execs takes the leader's
//!   pid (GETEVENTMSG gives its old one), so its pending call moves with it;
//! - other stops are signals: injected back, except group-stops (GETSIGINFO fails),
//!   which are resumed without a signal.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use nix::sys::ptrace::{self, Event};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::decode::{Cwds, Pending, Recorder, decode, predict};
use crate::syscalls::{NATIVE_ARCH, Op, X32_SYSCALL_BIT, lookup};
use crate::{Exit, TraceError};

/// The pids still traced, shared with the timeout thread.
pub(crate) type Live = Arc<Mutex<HashSet<i32>>>;

pub(crate) struct Tracer {
    pub root: Pid,
    pub live: Live,
    pub rec: Recorder,
    pub root_exit: Option<Exit>,
    pub root_execd: bool,
    pub warnings: Vec<String>,
    started: HashSet<Pid>,
    pending: HashMap<Pid, Pending>,
    foreign: HashSet<Pid>,
    cwds: Cwds,
}

pub(crate) fn options() -> ptrace::Options {
    use ptrace::Options as O;
    O::PTRACE_O_TRACESECCOMP
        | O::PTRACE_O_TRACESYSGOOD
        | O::PTRACE_O_TRACEFORK
        | O::PTRACE_O_TRACEVFORK
        | O::PTRACE_O_TRACECLONE
        | O::PTRACE_O_TRACEEXEC
        | O::PTRACE_O_EXITKILL
}

fn wait_flags() -> WaitPidFlag {
    WaitPidFlag::__WALL | WaitPidFlag::__WNOTHREAD
}

fn live_insert(live: &Live, pid: Pid) {
    if let Ok(mut l) = live.lock() {
        l.insert(pid.as_raw());
    }
}

impl Tracer {
    pub fn new(root: Pid, live: Live) -> Tracer {
        live_insert(&live, root);
        Tracer {
            root,
            live,
            rec: Recorder::default(),
            root_exit: None,
            root_execd: false,
            warnings: Vec::new(),
            started: HashSet::from([root]),
            pending: HashMap::new(),
            foreign: HashSet::new(),
            cwds: Cwds::default(),
        }
    }

    fn is_done(&self) -> bool {
        self.live.lock().map_or(true, |l| l.is_empty())
    }

    /// Runs until every tracee is gone.
    ///
    /// # Errors
    /// Only an unexpected `waitpid` failure; tracees that vanish mid-stop are not errors.
    pub fn run(&mut self) -> Result<(), TraceError> {
        while !self.is_done() {
            match waitpid(None, Some(wait_flags())) {
                Ok(status) => self.on_status(status),
                Err(Errno::EINTR) => {}
                Err(Errno::ECHILD) => break,
                Err(e) => {
                    return Err(TraceError::Wait { source: e.into() });
                }
            }
        }
        Ok(())
    }

    /// After a failure: reaps the tracees (already sent SIGKILL), a bounded number of
    /// events, so none is left a zombie of this thread.
    pub fn drain(&mut self) {
        for _ in 0..100_000 {
            if self.is_done() {
                return;
            }
            match waitpid(None, Some(wait_flags())) {
                Ok(status) => self.on_status(status),
                Err(Errno::EINTR) => {}
                Err(_) => return,
            }
        }
    }

    fn on_status(&mut self, status: WaitStatus) {
        match status {
            WaitStatus::Exited(pid, code) => self.gone(pid, Exit::Code(code)),
            WaitStatus::Signaled(pid, sig, _) => self.gone(pid, Exit::Signal(sig as i32)),
            WaitStatus::Stopped(pid, sig) => self.on_signal(pid, sig),
            WaitStatus::PtraceEvent(pid, _, ev) => self.on_event(pid, ev),
            WaitStatus::PtraceSyscall(pid) => {
                self.on_exit_stop(pid);
                resume(pid, None);
            }
            _ => {}
        }
    }

    fn gone(&mut self, pid: Pid, exit: Exit) {
        if let Ok(mut l) = self.live.lock() {
            l.remove(&pid.as_raw());
        }
        self.started.remove(&pid);
        self.pending.remove(&pid);
        self.foreign.remove(&pid);
        self.cwds.forget(pid);
        if pid == self.root {
            self.root_exit = Some(exit);
        }
    }

    fn on_signal(&mut self, pid: Pid, sig: Signal) {
        if self.started.insert(pid) {
            // A new tracee's first stop: the SIGSTOP auto-attach queued; swallow it.
            live_insert(&self.live, pid);
            if sig == Signal::SIGSTOP {
                resume(pid, None);
                return;
            }
        }
        match ptrace::getsiginfo(pid) {
            // Group-stop: nothing to deliver (without PTRACE_SEIZE it cannot be kept).
            Err(Errno::EINVAL) => resume(pid, None),
            _ => resume(pid, Some(sig)),
        }
    }

    fn on_event(&mut self, pid: Pid, ev: i32) {
        if ev == Event::PTRACE_EVENT_SECCOMP as i32 {
            self.on_seccomp(pid);
            return;
        }
        if ev == Event::PTRACE_EVENT_FORK as i32
            || ev == Event::PTRACE_EVENT_VFORK as i32
            || ev == Event::PTRACE_EVENT_CLONE as i32
        {
            if let Ok(child) = ptrace::getevent(pid) {
                live_insert(&self.live, Pid::from_raw(child as i32));
            }
        } else if ev == Event::PTRACE_EVENT_EXEC as i32 {
            self.on_exec(pid);
        }
        resume(pid, None);
    }

    fn on_exec(&mut self, pid: Pid) {
        let former = ptrace::getevent(pid).map_or(pid, |f| Pid::from_raw(f as i32));
        if former != pid {
            // A non-leader thread exec'd: it now has the leader's pid; the old tid is gone
            // without an exit report, and the leader's own pending call is void.
            if let Ok(mut l) = self.live.lock() {
                l.remove(&former.as_raw());
            }
            self.started.remove(&former);
            self.cwds.forget(former);
            self.pending.remove(&pid);
            if let Some(p) = self.pending.remove(&former) {
                self.pending.insert(pid, p);
            }
        }
        if let Some(p) = self.pending.remove(&pid) {
            self.rec.finish(pid, p, Ok(()));
        }
        self.foreign.remove(&pid);
        if pid == self.root {
            self.root_execd = true;
        }
    }

    fn on_seccomp(&mut self, pid: Pid) {
        let Ok(info) = syscall_info(pid) else {
            return resume(pid, None);
        };
        if info.op != libc::PTRACE_SYSCALL_INFO_SECCOMP {
            return resume(pid, None);
        }
        // SAFETY: `op` says the union holds the seccomp variant.
        let (nr, args) = unsafe { (info.u.seccomp.nr, info.u.seccomp.args) };
        let x32 = X32_SYSCALL_BIT.is_some_and(|b| nr & u64::from(b) != 0);
        if info.arch != NATIVE_ARCH || x32 {
            if self.foreign.insert(pid) {
                self.warnings.push(format!(
                    "process {pid} made system calls of another ABI (audit arch {:#x}, \
                     call {nr}); its file accesses are not recorded",
                    info.arch
                ));
            }
            return resume(pid, None);
        }
        match lookup(nr).and_then(|sys| decode(pid, sys, &args, &mut self.cwds)) {
            Some(p) => match predict(&p) {
                Some(result) => {
                    self.rec.finish(pid, p, result);
                    resume(pid, None);
                }
                None => {
                    self.pending.insert(pid, p);
                    // Run the call to its exit stop to learn the result.
                    let _ = ptrace::syscall(pid, None);
                }
            },
            None => resume(pid, None),
        }
    }

    fn on_exit_stop(&mut self, pid: Pid) {
        let Some(p) = self.pending.remove(&pid) else {
            return;
        };
        let Ok(info) = syscall_info(pid) else {
            return;
        };
        if info.op != libc::PTRACE_SYSCALL_INFO_EXIT {
            return;
        }
        // SAFETY: `op` says the union holds the exit variant.
        let (rval, is_error) = unsafe { (info.u.exit.sval, info.u.exit.is_error) };
        let result = if is_error != 0 {
            Err(i32::try_from(-rval).unwrap_or(0))
        } else {
            Ok(())
        };
        if result.is_ok() && matches!(p.sys.op, Op::Chdir | Op::Fchdir) {
            self.cwds.clear();
        }
        self.rec.finish(pid, p, result);
    }
}

/// PTRACE_GET_SYSCALL_INFO. Not nix's `ptrace::syscall_info`: it passes a size of 0, so
/// the kernel copies nothing into the struct it then reads.
fn syscall_info(pid: Pid) -> Result<libc::ptrace_syscall_info, Errno> {
    // SAFETY: all-zero is a valid ptrace_syscall_info (integers and a union of integers).
    let mut info: libc::ptrace_syscall_info = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::ptrace_syscall_info>();
    // SAFETY: the kernel writes at most `size` bytes into `info`.
    let got = unsafe {
        libc::ptrace(
            libc::PTRACE_GET_SYSCALL_INFO,
            pid.as_raw(),
            size,
            &mut info as *mut libc::ptrace_syscall_info,
        )
    };
    Errno::result(got).map(|_| info)
}

/// Continues a stopped tracee; one that died meanwhile (ESRCH) is reported by waitpid.
fn resume(pid: Pid, sig: Option<Signal>) {
    let _ = ptrace::cont(pid, sig);
}

/// The root's first stop: the SIGSTOP it raised after PTRACE_TRACEME. Sets the options
/// (before the child installs its filter) and checks the kernel's PTRACE_GET_SYSCALL_INFO.
/// Returns the child's exit if it exited instead (its setup failed; the pipe says why).
///
/// # Errors
/// The options cannot be set, or the kernel is older than 5.3.
pub(crate) fn first_stop(root: Pid) -> Result<Option<Exit>, TraceError> {
    loop {
        match waitpid(root, Some(wait_flags())) {
            Ok(WaitStatus::Stopped(_, Signal::SIGSTOP)) => break,
            Ok(WaitStatus::Exited(_, code)) => return Ok(Some(Exit::Code(code))),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(Some(Exit::Signal(sig as i32))),
            Ok(WaitStatus::Stopped(_, sig)) => resume(root, Some(sig)),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(TraceError::Wait { source: e.into() }),
        }
    }
    ptrace::setoptions(root, options()).map_err(|e| TraceError::Ptrace {
        what: "set the tracing options (PTRACE_SETOPTIONS)",
        source: e.into(),
    })?;
    if let Err(e) = syscall_info(root) {
        let _ = nix::sys::signal::kill(root, Signal::SIGKILL);
        let _ = waitpid(root, Some(wait_flags()));
        return Err(TraceError::KernelTooOld { source: e.into() });
    }
    resume(root, None);
    Ok(None)
}
