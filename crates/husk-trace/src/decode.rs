//! What one traced call means: at its entry stop the arguments become a `Pending` (an
//! absolute path and what a success would show); at its exit stop the result turns the
//! pending call into an access, a probe or a created path in the `Recorder`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use nix::unistd::Pid;

use crate::memory::{absolute, base_dir, read_cstring, read_u64};
use crate::syscalls::{Op, Sys};
use crate::{Access, AccessKind, Probe};

/// A traced call between its entry and its exit.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub sys: &'static Sys,
    pub path: PathBuf,
    pub effect: Effect,
}

/// The result of a lookup-only call (stat, lstat, access, readlink), found by the tracer
/// making the same lookup on the host at the entry stop. These are most of the traced
/// calls (`git status` lstats every file), and answering them here spares the exit stop:
/// half the context switches. The tracer runs as the user that traces (root, usually), so
/// it may see a file the program could not; that only copies a file more.
pub(crate) fn predict(p: &Pending) -> Option<Result<(), i32>> {
    let Effect::Access { kind, nofollow } = p.effect else {
        return None;
    };
    if !matches!(kind, AccessKind::Stat | AccessKind::Readlink) {
        return None;
    }
    let md = if nofollow {
        std::fs::symlink_metadata(&p.path)
    } else {
        std::fs::metadata(&p.path)
    };
    Some(match md {
        Ok(m) if kind == AccessKind::Readlink && !m.is_symlink() => Err(libc::EINVAL),
        Ok(_) => Ok(()),
        Err(e) => Err(e.raw_os_error().unwrap_or(libc::ENOENT)),
    })
}

/// What a successful call records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Access {
        kind: AccessKind,
        nofollow: bool,
    },
    /// An open: its flags, and whether the path existed before the call.
    Open {
        flags: i32,
        existed: bool,
    },
    Create,
    /// fchdir: only its effect on the cwd matters.
    Cwd,
}

fn flag_arg(sys: &Sys, args: &[u64; 6]) -> i32 {
    sys.flags.map_or(0, |i| args[i] as i32)
}

/// The working directories of the tracees, read once per process from `/proc/PID/cwd`
/// (a relative path in every call would otherwise cost a readlink each: `git status`
/// makes ten thousand). Any chdir or fchdir, by any tracee, empties it: threads share
/// their cwd, and the tracer does not track which share it with which.
#[derive(Debug, Default)]
pub(crate) struct Cwds(HashMap<Pid, Option<PathBuf>>);

impl Cwds {
    fn base(&mut self, pid: Pid, dirfd: Option<i32>) -> Option<PathBuf> {
        match dirfd {
            None | Some(libc::AT_FDCWD) => self
                .0
                .entry(pid)
                .or_insert_with(|| base_dir(pid, None))
                .clone(),
            Some(_) => base_dir(pid, dirfd),
        }
    }

    /// Forgets every cwd (a chdir or fchdir succeeded) ...
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// ... or one process's (it is gone, and its pid may be reused).
    pub fn forget(&mut self, pid: Pid) {
        self.0.remove(&pid);
    }
}

/// The call's path, absolute. For getdents the "path" is the directory open on the fd.
fn call_path(pid: Pid, sys: &Sys, args: &[u64; 6], cwds: &mut Cwds) -> Option<PathBuf> {
    let dirfd = sys.dirfd.map(|i| args[i] as i32);
    if sys.op == Op::List {
        return base_dir(pid, Some(args[sys.path] as i32));
    }
    let raw = read_cstring(pid, args[sys.path])?;
    if raw.is_empty() {
        // Only AT_EMPTY_PATH makes "" valid: the call acts on the fd itself.
        let empty_ok = flag_arg(sys, args) & libc::AT_EMPTY_PATH != 0 && sys.dirfd.is_some();
        return empty_ok.then(|| cwds.base(pid, dirfd)).flatten();
    }
    if raw.first() == Some(&b'/') {
        return absolute(None, &raw);
    }
    absolute(cwds.base(pid, dirfd).as_deref(), &raw)
}

/// The pending call for a traced call's entry; None if its path cannot be read (the call
/// will fail with EFAULT or ENAMETOOLONG) or names no path.
pub(crate) fn decode(
    pid: Pid,
    sys: &'static Sys,
    args: &[u64; 6],
    cwds: &mut Cwds,
) -> Option<Pending> {
    if sys.op == Op::Fchdir {
        // Nothing to record; run to the exit only to forget the cwds there.
        return Some(Pending {
            sys,
            path: PathBuf::new(),
            effect: Effect::Cwd,
        });
    }
    let path = call_path(pid, sys, args, cwds)?;
    let flags = flag_arg(sys, args);
    let nofollow = flags & libc::AT_SYMLINK_NOFOLLOW != 0;
    let access = |kind, nofollow| Effect::Access { kind, nofollow };
    let effect = match sys.op {
        Op::Open | Op::OpenHow | Op::Creat => {
            let flags = match sys.op {
                Op::Creat => libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC,
                Op::OpenHow => read_u64(pid, args[2]).map_or(0, |f| f as i32),
                _ => flags,
            };
            let existed = flags & libc::O_CREAT == 0 || std::fs::metadata(&path).is_ok();
            Effect::Open { flags, existed }
        }
        Op::Exec => access(AccessKind::Exec, false),
        Op::Stat | Op::Access => access(AccessKind::Stat, nofollow),
        Op::Lstat => access(AccessKind::Stat, true),
        Op::Readlink => access(AccessKind::Readlink, true),
        Op::Chdir => access(AccessKind::Chdir, false),
        Op::Fchdir => Effect::Cwd,
        Op::List => access(AccessKind::List, false),
        Op::Create => Effect::Create,
    };
    Some(Pending { sys, path, effect })
}

/// Everything the traced processes did, deduplicated (the first process and call that
/// touched a path in a way is kept), so a program looping on a path stays bounded.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    pub accesses: Vec<Access>,
    pub probes: Vec<Probe>,
    pub created: BTreeSet<PathBuf>,
    seen: HashSet<(PathBuf, AccessKind, bool)>,
    probed: HashSet<(PathBuf, &'static str)>,
}

impl Recorder {
    /// Records a finished call: `result` is the return value or `-errno`.
    pub fn finish(&mut self, pid: Pid, p: Pending, result: Result<(), i32>) {
        let pid = pid.as_raw() as u32;
        let syscall = p.sys.name;
        if let Err(errno) = result {
            let looked_up = !matches!(p.effect, Effect::Create | Effect::Cwd);
            if looked_up && self.probed.insert((p.path.clone(), syscall)) {
                self.probes.push(Probe {
                    path: p.path,
                    pid,
                    syscall,
                    errno,
                });
            }
            return;
        }
        let (kind, nofollow) = match p.effect {
            Effect::Cwd => return,
            Effect::Create => {
                self.created.insert(p.path);
                return;
            }
            Effect::Access { kind, nofollow } => (kind, nofollow),
            Effect::Open { flags, existed } => {
                if !existed {
                    self.created.insert(p.path);
                    return;
                }
                (open_kind(flags), flags & libc::O_NOFOLLOW != 0)
            }
        };
        if self.seen.insert((p.path.clone(), kind, nofollow)) {
            self.accesses.push(Access {
                path: p.path,
                kind,
                nofollow,
                pid,
                syscall,
            });
        }
    }
}

/// What a successful open of an existing path was.
fn open_kind(flags: i32) -> AccessKind {
    if flags & libc::O_PATH != 0 {
        AccessKind::Stat
    } else if flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0 {
        AccessKind::Write
    } else {
        AccessKind::Read
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::lookup;

    fn pending(name: &str, path: &str, effect: Effect) -> Pending {
        let sys = crate::syscalls::CALLS
            .iter()
            .find(|s| s.name == name)
            .unwrap();
        Pending {
            sys,
            path: path.into(),
            effect,
        }
    }

    #[test]
    fn successes_failures_and_creations_are_told_apart() {
        let mut r = Recorder::default();
        let me = Pid::this();
        let open = |flags, existed| Effect::Open { flags, existed };
        r.finish(
            me,
            pending("openat", "/etc/hosts", open(libc::O_RDONLY, true)),
            Ok(()),
        );
        r.finish(
            me,
            pending("openat", "/etc/hosts", open(libc::O_RDONLY, true)),
            Ok(()),
        );
        r.finish(
            me,
            pending("openat", "/nope", open(libc::O_RDONLY, true)),
            Err(2),
        );
        r.finish(
            me,
            pending("openat", "/tmp/new", open(libc::O_CREAT, false)),
            Ok(()),
        );
        r.finish(
            me,
            pending("openat", "/var/log/x", open(libc::O_WRONLY, true)),
            Ok(()),
        );
        r.finish(me, pending("mkdirat", "/tmp/d", Effect::Create), Ok(()));
        r.finish(me, pending("mkdirat", "/tmp/e", Effect::Create), Err(17));
        let kinds: Vec<_> = r
            .accesses
            .iter()
            .map(|a| (a.path.clone(), a.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("/etc/hosts".into(), AccessKind::Read),
                ("/var/log/x".into(), AccessKind::Write)
            ]
        );
        assert_eq!(r.probes.len(), 1);
        assert_eq!(r.probes[0].errno, 2);
        assert_eq!(
            r.created,
            BTreeSet::from(["/tmp/new".into(), "/tmp/d".into()])
        );
    }

    #[test]
    fn lookups_are_answered_on_the_host_and_opens_are_not() {
        let stat = |kind, nofollow| Effect::Access { kind, nofollow };
        let p = pending("newfstatat", "/", stat(AccessKind::Stat, false));
        assert_eq!(predict(&p), Some(Ok(())));
        let p = pending("newfstatat", "/no/such/path", stat(AccessKind::Stat, true));
        assert_eq!(predict(&p), Some(Err(libc::ENOENT)));
        let p = pending("readlinkat", "/", stat(AccessKind::Readlink, true));
        assert_eq!(predict(&p), Some(Err(libc::EINVAL)));
        let open = Effect::Open {
            flags: libc::O_RDONLY,
            existed: true,
        };
        assert_eq!(predict(&pending("openat", "/", open)), None);
        assert_eq!(
            predict(&pending("execve", "/", stat(AccessKind::Exec, false))),
            None
        );
    }

    #[test]
    fn open_kinds() {
        assert_eq!(
            open_kind(libc::O_RDONLY | libc::O_CLOEXEC),
            AccessKind::Read
        );
        assert_eq!(open_kind(libc::O_RDWR), AccessKind::Write);
        assert_eq!(open_kind(libc::O_RDONLY | libc::O_TRUNC), AccessKind::Write);
        assert_eq!(open_kind(libc::O_PATH), AccessKind::Stat);
        assert!(lookup(libc::SYS_openat as u64).is_some());
    }
}
