//! From a trace to what an image needs: each accessed path is resolved on the host one
//! component at a time with `lstat`, the way the kernel walks it, so every symlink on the
//! way (`/usr/bin/python3 -> python3.11`, `/lib -> usr/lib`) is kept along with the final
//! file or directory. Paths the policy refuses, and what the program created, are listed
//! as skipped with their reason.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::classify::{Policy, Skip, SkipReason, is_private_key_pem};
use crate::{Access, AccessKind, Trace};

/// The kernel's limit of symlinks followed in one path walk.
const MAX_LINKS: usize = 40;

/// What a needed path is on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    File,
    Dir,
    /// A symlink, with its target as stored in the link.
    Symlink(PathBuf),
}

/// One path the image needs, and the access that first led to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub kind: EntryKind,
    pub via: Access,
}

/// The closure of a trace: needed host paths and skipped ones, each with why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Needed {
    pub entries: BTreeMap<PathBuf, Entry>,
    pub skipped: BTreeMap<PathBuf, Skip>,
}

/// One step of a walk: a symlink passed through, or the final object.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Found(PathBuf, EntryKind),
    Skipped(PathBuf, Skip),
}

fn skip(reason: SkipReason, rule: &str) -> Skip {
    Skip {
        reason,
        rule: rule.to_string(),
    }
}

fn components(p: &Path) -> impl Iterator<Item = OsString> + '_ {
    p.components().filter_map(|c| match c {
        Component::Normal(n) => Some(n.to_os_string()),
        Component::ParentDir => Some(OsString::from("..")),
        _ => None,
    })
}

/// Whether `path` or a directory above it was created during the trace.
fn created(trace: &Trace, path: &Path) -> bool {
    path.ancestors().any(|a| trace.created.contains(a))
}

/// Walks `path` from `/` with lstat. Symlinks are followed (the last one only when
/// `follow_last`); a component the policy refuses ends the walk there.
fn walk(trace: &Trace, policy: &Policy, path: &Path, follow_last: bool) -> Vec<Step> {
    let mut out = Vec::new();
    let mut todo: VecDeque<OsString> = components(path).collect();
    let mut cur = PathBuf::from("/");
    let mut links = 0;
    while let Some(c) = todo.pop_front() {
        if c == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&c);
        if let Some(s) = policy.classify(&next) {
            out.push(Step::Skipped(next, s));
            return out;
        }
        if created(trace, &next) {
            out.push(Step::Skipped(
                next,
                skip(SkipReason::Created, "created by the program"),
            ));
            return out;
        }
        let last = todo.is_empty();
        let Ok(md) = std::fs::symlink_metadata(&next) else {
            out.push(Step::Skipped(
                next,
                skip(SkipReason::Gone, "not on the host"),
            ));
            return out;
        };
        if md.is_symlink() && (!last || follow_last) {
            links += 1;
            let target = match std::fs::read_link(&next) {
                Ok(t) if links <= MAX_LINKS => t,
                _ => {
                    out.push(Step::Skipped(next, skip(SkipReason::SymlinkLoop, "ELOOP")));
                    return out;
                }
            };
            if target.is_absolute() {
                cur = PathBuf::from("/");
            }
            for comp in components(&target).collect::<Vec<_>>().into_iter().rev() {
                todo.push_front(comp);
            }
            out.push(Step::Found(next, EntryKind::Symlink(target)));
        } else if last {
            out.push(final_step(next, &md));
        } else if md.is_dir() {
            cur = next;
        } else {
            out.push(Step::Skipped(
                next,
                skip(SkipReason::Gone, "not a directory"),
            ));
            return out;
        }
    }
    if out.is_empty() {
        out.push(Step::Found(cur, EntryKind::Dir));
    }
    out
}

fn final_step(path: PathBuf, md: &std::fs::Metadata) -> Step {
    let ft = md.file_type();
    if ft.is_symlink() {
        let target = std::fs::read_link(&path).unwrap_or_default();
        Step::Found(path, EntryKind::Symlink(target))
    } else if ft.is_dir() {
        Step::Found(path, EntryKind::Dir)
    } else if !ft.is_file() {
        Step::Skipped(path, skip(SkipReason::NotRegular, "not a regular file"))
    } else if path.extension().is_some_and(|e| e == "pem") && pem_key(&path) {
        Step::Skipped(path, skip(SkipReason::Secret, "PEM private key"))
    } else {
        Step::Found(path, EntryKind::File)
    }
}

fn pem_key(path: &Path) -> bool {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .is_ok()
        && is_private_key_pem(&head)
}

/// The `#!` interpreter of a script, from its first line.
fn shebang(path: &Path) -> Option<PathBuf> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(256).read_to_end(&mut head))
        .ok()?;
    let line = head.strip_prefix(b"#!")?.split(|b| *b == b'\n').next()?;
    let first = line
        .split(|b| *b == b' ' || *b == b'\t')
        .find(|w| !w.is_empty())?;
    let p = PathBuf::from(std::str::from_utf8(first).ok()?);
    p.is_absolute().then_some(p)
}

/// The kernel starts a script's `#!` interpreter without a system call the tracer sees:
/// when an executed file is a script, its interpreter (and its interpreter's, up to the
/// kernel's depth of 4) is walked as if it had been executed too.
fn interpreters(trace: &Trace, policy: &Policy, steps: &[Step]) -> Vec<Step> {
    let mut out = Vec::new();
    let mut last = steps.last().cloned();
    for _ in 0..4 {
        let Some(Step::Found(file, EntryKind::File)) = last else {
            break;
        };
        let Some(interp) = shebang(&file) else { break };
        let more = if let Some(s) = policy.classify(&interp) {
            vec![Step::Skipped(interp, s)]
        } else {
            walk(trace, policy, &interp, true)
        };
        last = more.last().cloned();
        out.extend(more);
    }
    out
}

/// What the image needs for the traced runs to succeed: every accessed path's symlinks
/// and final file or directory, deduplicated, minus what `policy` refuses and what the
/// programs created. Reads the host (lstat, readlink, and the head of `.pem` files).
#[must_use]
pub fn closure(trace: &Trace, policy: &Policy) -> Needed {
    closure_of(std::slice::from_ref(trace), policy)
}

/// [`closure`] of several traced runs (the scenarios of one build), as one union.
#[must_use]
pub fn closure_of(traces: &[Trace], policy: &Policy) -> Needed {
    let mut needed = Needed::default();
    for trace in traces {
        for a in &trace.accesses {
            let mut steps = if let Some(s) = policy.classify(&a.path) {
                vec![Step::Skipped(a.path.clone(), s)]
            } else {
                walk(trace, policy, &a.path, !a.nofollow)
            };
            if a.kind == AccessKind::Exec {
                steps.extend(interpreters(trace, policy, &steps));
            }
            for step in steps {
                match step {
                    Step::Found(p, kind) => {
                        needed.skipped.remove(&p);
                        needed.entries.entry(p).or_insert_with(|| Entry {
                            kind,
                            via: a.clone(),
                        });
                    }
                    Step::Skipped(p, s) if !needed.entries.contains_key(&p) => {
                        needed.skipped.entry(p).or_insert(s);
                    }
                    Step::Skipped(..) => {}
                }
            }
        }
        for c in &trace.created {
            let s = skip(SkipReason::Created, "created by the program");
            needed.skipped.entry(c.clone()).or_insert(s);
        }
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn exec_trace(path: &Path) -> Trace {
        Trace {
            program: path.to_path_buf(),
            accesses: vec![Access {
                path: path.to_path_buf(),
                kind: AccessKind::Exec,
                nofollow: false,
                pid: 1,
                syscall: "execve",
            }],
            probes: Vec::new(),
            created: Default::default(),
            exit: crate::Exit::Code(0),
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            timed_out: false,
            elapsed: std::time::Duration::ZERO,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn an_executed_script_brings_its_interpreter_chain() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("inner");
        std::fs::write(&inner, "#!/bin/sh\nexec true\n").unwrap();
        let outer = dir.path().join("outer");
        std::fs::write(&outer, format!("#! {} -x\n", inner.display())).unwrap();
        for p in [&inner, &outer] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let needed = closure(&exec_trace(&outer), &Policy::new(&[]));
        assert!(needed.entries.contains_key(&outer));
        assert!(
            needed.entries.contains_key(&inner),
            "{:?}",
            needed.entries.keys()
        );
        let sh = std::fs::canonicalize("/bin/sh").unwrap();
        assert!(
            needed.entries.contains_key(&sh),
            "{:?}",
            needed.entries.keys()
        );
        assert_eq!(needed.entries[&sh].via.kind, AccessKind::Exec);
    }

    #[test]
    fn odd_shebangs_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("rel", "#!sh\n".as_bytes()),
            ("empty", b"#!"),
            ("bin", b"#!\xff\xfe\n"),
            ("loop", b"#!/proc/self/exe\n"),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            let needed = closure(&exec_trace(&p), &Policy::new(&[]));
            assert_eq!(
                needed.entries.len(),
                1,
                "{name}: {:?}",
                needed.entries.keys()
            );
        }
    }
}
