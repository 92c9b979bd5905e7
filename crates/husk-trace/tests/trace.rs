//! Traces real programs (python3, perl, sh, small C programs compiled here with gcc) and
//! checks what the tracer recorded and what the closure keeps. Every run is bounded by
//! the scenario's timeout; several tests trace at the same time, on their own threads.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use husk_trace::{
    AccessKind, EntryKind, Exit, Policy, Scenario, SkipReason, Trace, TraceError, closure, trace,
};

fn scenario(program: &str, args: &[&str], cwd: &Path) -> Scenario {
    let mut s = Scenario::new(program, args.iter().copied());
    s.env = vec![
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("LC_ALL".into(), "C".into()),
    ];
    s.cwd = cwd.to_path_buf();
    s.timeout = Duration::from_secs(60);
    s
}

fn run(program: &str, args: &[&str], cwd: &Path) -> Trace {
    let t = trace(&scenario(program, args, cwd)).expect("trace runs");
    assert!(
        t.exit.success(),
        "{program} {args:?}: {}\nstderr: {}",
        t.exit,
        String::from_utf8_lossy(&t.stderr)
    );
    t
}

fn accessed(t: &Trace, kind: AccessKind, pred: impl Fn(&Path) -> bool) -> bool {
    t.accesses.iter().any(|a| a.kind == kind && pred(&a.path))
}

fn name_starts(p: &Path, prefix: &str) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
}

/// Compiles a C program into `dir` and returns its path.
fn cc(dir: &Path, name: &str, src: &str) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).unwrap();
    let out = dir.join(name);
    let st = Command::new("gcc")
        .args(["-O1", "-pthread", "-o"])
        .arg(&out)
        .arg(&c)
        .status()
        .expect("gcc is installed");
    assert!(st.success(), "gcc {name}.c");
    out
}

#[test]
fn python_stdlib_modules_and_their_libraries() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("app.py");
    std::fs::write(
        &script,
        "import json, sqlite3, ssl, hashlib\n\
         print(json.dumps({'h': hashlib.sha256(b'x').hexdigest()[:8], 's': sqlite3.sqlite_version_info[0]}))\n",
    )
    .unwrap();
    let t = run("/usr/bin/python3", &[script.to_str().unwrap()], dir.path());
    assert!(String::from_utf8_lossy(&t.stdout).contains("\"s\": 3"));
    // The source is stat'ed (its mtime validates the cached bytecode), the .pyc read.
    assert!(accessed(&t, AccessKind::Stat, |p| {
        p.starts_with("/usr/lib") && p.ends_with("json/__init__.py")
    }));
    assert!(accessed(&t, AccessKind::Read, |p| {
        p.starts_with("/usr/lib") && p.to_string_lossy().contains("json/__pycache__/__init__")
    }));
    assert!(accessed(&t, AccessKind::Read, |p| name_starts(
        p,
        "_sqlite3."
    )));
    assert!(accessed(&t, AccessKind::Read, |p| name_starts(
        p,
        "libssl.so"
    )));
    assert!(accessed(&t, AccessKind::Read, |p| p == script));
    let needed = closure(&t, &Policy::new(&[]));
    // The interpreter's symlink chain: /usr/bin/python3 -> python3.11.
    let py = needed
        .entries
        .get(Path::new("/usr/bin/python3"))
        .expect("python3 link");
    assert!(matches!(py.kind, EntryKind::Symlink(_)));
    assert!(
        needed
            .entries
            .values()
            .any(|e| e.via.kind == AccessKind::Exec)
    );
}

#[test]
fn perl_modules() {
    let dir = tempfile::tempdir().unwrap();
    let t = run(
        "/usr/bin/perl",
        &[
            "-MJSON::PP",
            "-MDigest::SHA=sha1_hex",
            "-e",
            "print JSON::PP->new->encode([substr(sha1_hex('x'),0,6)])",
        ],
        dir.path(),
    );
    assert_eq!(String::from_utf8_lossy(&t.stdout), "[\"11f6ad\"]");
    assert!(accessed(&t, AccessKind::Read, |p| p.ends_with("JSON/PP.pm")));
    assert!(accessed(&t, AccessKind::Read, |p| p.ends_with("Digest/SHA.pm")));
}

#[test]
fn shell_forks_and_execs_a_child() {
    let dir = tempfile::tempdir().unwrap();
    let t = run("/bin/sh", &["-c", "cat /etc/hostname; exit 0"], dir.path());
    assert!(accessed(&t, AccessKind::Exec, |p| p.ends_with("bin/cat")));
    let read = t
        .accesses
        .iter()
        .find(|a| a.path == Path::new("/etc/hostname"))
        .expect("hostname read");
    // Read by the child, not by the shell.
    let sh = t
        .accesses
        .iter()
        .find(|a| a.kind == AccessKind::Exec)
        .unwrap();
    assert_ne!(read.pid, sh.pid);
    assert!(t.program.ends_with("sh"));
}

#[test]
fn a_thread_reading_a_file_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.txt");
    std::fs::write(&data, "threaded").unwrap();
    let code = format!(
        "import threading\nout=[]\n\
         t=threading.Thread(target=lambda: out.append(open({:?}).read()))\n\
         t.start(); t.join(); print(out[0])",
        data.to_str().unwrap()
    );
    let t = run("/usr/bin/python3", &["-c", &code], dir.path());
    assert_eq!(String::from_utf8_lossy(&t.stdout).trim(), "threaded");
    let a = t
        .accesses
        .iter()
        .find(|a| a.path == data)
        .expect("data read");
    let main = t
        .accesses
        .iter()
        .find(|a| a.kind == AccessKind::Exec)
        .unwrap();
    assert_ne!(a.pid, main.pid, "read by the thread");
}

#[test]
fn written_files_are_created_not_needed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let sub = dir.path().join("made");
    let cmd = format!(
        "echo hi > {0}; cat {0} >/dev/null; mkdir {1}; echo x > {1}/f; cat {1}/f",
        out.display(),
        sub.display()
    );
    let t = run("/bin/sh", &["-c", &cmd], dir.path());
    assert!(t.created.contains(&out));
    assert!(t.created.contains(&sub));
    let needed = closure(&t, &Policy::new(&[]));
    assert!(!needed.entries.contains_key(&out));
    assert!(!needed.entries.contains_key(&sub.join("f")));
    assert_eq!(needed.skipped[&out].reason, SkipReason::Created);
    assert_eq!(needed.skipped[&sub.join("f")].reason, SkipReason::Created);
    assert_eq!(
        needed.skipped[Path::new("/dev/null")].reason,
        SkipReason::SystemTree
    );
}

#[test]
fn a_server_is_stopped_by_the_timeout_and_what_it_read_counts() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("server.conf");
    std::fs::write(&conf, "port=1\n").unwrap();
    let code = format!(
        "import time, signal\nopen({:?}).read()\nprint('ready', flush=True)\n\
         signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(0.05)",
        conf.to_str().unwrap()
    );
    let mut s = scenario("/usr/bin/python3", &["-c", &code], dir.path());
    s.timeout = Duration::from_millis(1500);
    s.grace = Duration::from_millis(300);
    let t = trace(&s).unwrap();
    assert!(t.timed_out);
    // It ignored SIGTERM, so SIGKILL ended it.
    assert_eq!(t.exit, Exit::Signal(libc::SIGKILL));
    assert_eq!(String::from_utf8_lossy(&t.stdout), "ready\n");
    assert!(t.accesses.iter().any(|a| a.path == conf));

    // A server that honours SIGTERM ends with it.
    let mut s = scenario(
        "/bin/sh",
        &["-c", "cat /etc/hostname >/dev/null; sleep 600"],
        dir.path(),
    );
    s.timeout = Duration::from_millis(500);
    let t = trace(&s).unwrap();
    assert!(t.timed_out);
    assert_eq!(t.exit, Exit::Signal(libc::SIGTERM));
    assert!(
        t.accesses
            .iter()
            .any(|a| a.path == Path::new("/etc/hostname"))
    );
}

const PATHS_C: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void) {
    struct stat st;
    if (chdir("sub") != 0) return 1;
    int f = open("rel.txt", O_RDONLY);            /* sub/rel.txt via the cwd */
    int d = open("inner", O_RDONLY | O_DIRECTORY);
    int g = openat(d, "deep.txt", O_RDONLY);       /* sub/inner/deep.txt via the dirfd */
    int h = openat(d, "../up.txt", O_RDONLY);      /* sub/up.txt through .. */
    int m = open("missing.txt", O_RDONLY);         /* ENOENT: a probe */
    int l = fstatat(d, "link", &st, AT_SYMLINK_NOFOLLOW);
    if (f < 0 || d < 0 || g < 0 || h < 0 || m >= 0 || l != 0) return 2;
    if (fchdir(d) != 0 || open("fch.txt", O_RDONLY) < 0) return 3; /* cwd now sub/inner */
    puts("ok");
    return 0;
}
"#;

#[test]
fn relative_paths_chdir_and_dirfd_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let sub = root.join("sub");
    std::fs::create_dir_all(sub.join("inner")).unwrap();
    std::fs::write(sub.join("rel.txt"), "").unwrap();
    std::fs::write(sub.join("up.txt"), "").unwrap();
    std::fs::write(sub.join("inner/deep.txt"), "").unwrap();
    std::fs::write(sub.join("inner/fch.txt"), "").unwrap();
    std::os::unix::fs::symlink("/nonexistent/target", sub.join("inner/link")).unwrap();
    let bin = cc(&root, "paths", PATHS_C);
    let t = run(bin.to_str().unwrap(), &[], &root);
    let has = |p: PathBuf, k| t.accesses.iter().any(|a| a.path == p && a.kind == k);
    assert!(has(sub.clone(), AccessKind::Chdir));
    assert!(has(sub.join("rel.txt"), AccessKind::Read));
    assert!(has(sub.join("inner/deep.txt"), AccessKind::Read));
    assert!(has(sub.join("inner/../up.txt"), AccessKind::Read));
    assert!(has(sub.join("inner/link"), AccessKind::Stat));
    assert!(
        has(sub.join("inner/fch.txt"), AccessKind::Read),
        "cwd after fchdir"
    );
    assert!(!t.accesses.iter().any(|a| a.path.ends_with("missing.txt")));
    let probe = t
        .probes
        .iter()
        .find(|p| p.path == sub.join("missing.txt"))
        .expect("probe");
    assert_eq!(probe.errno, libc::ENOENT);
    let needed = closure(&t, &Policy::new(&[]));
    assert!(
        needed.entries.contains_key(&sub.join("up.txt")),
        ".. resolved on the host"
    );
    assert!(!needed.entries.contains_key(&sub.join("missing.txt")));
    // lstat of a dangling link needs the link only.
    let link = &needed.entries[&sub.join("inner/link")];
    assert_eq!(link.kind, EntryKind::Symlink("/nonexistent/target".into()));
    assert!(!needed.skipped.contains_key(Path::new("/nonexistent")));
}

#[test]
fn symlink_chains_are_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("real/dir")).unwrap();
    std::fs::write(root.join("real/dir/file.txt"), "chain").unwrap();
    std::os::unix::fs::symlink("real", root.join("hop")).unwrap();
    std::os::unix::fs::symlink("hop/dir/file.txt", root.join("b")).unwrap();
    std::os::unix::fs::symlink(root.join("b"), root.join("a")).unwrap();
    let t = run("/bin/cat", &["a"], &root);
    assert_eq!(String::from_utf8_lossy(&t.stdout), "chain");
    let needed = closure(&t, &Policy::new(&[]));
    let kind = |p: &str| needed.entries.get(&root.join(p)).map(|e| e.kind.clone());
    assert_eq!(kind("a"), Some(EntryKind::Symlink(root.join("b"))));
    assert_eq!(
        kind("b"),
        Some(EntryKind::Symlink("hop/dir/file.txt".into()))
    );
    assert_eq!(kind("hop"), Some(EntryKind::Symlink("real".into())));
    assert_eq!(kind("real/dir/file.txt"), Some(EntryKind::File));
}

#[test]
fn secrets_and_home_are_skipped_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let home = root.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_ed25519"), "k").unwrap();
    std::fs::write(root.join("tls.pem"), "-----BEGIN PRIVATE KEY-----\nMII\n").unwrap();
    std::fs::write(root.join("ca.pem"), "-----BEGIN CERTIFICATE-----\nMII\n").unwrap();
    std::fs::write(root.join(".env"), "TOKEN=x\n").unwrap();
    std::fs::write(home.join("notes"), "n").unwrap();
    let t = run(
        "/bin/cat",
        &[
            "home/.ssh/id_ed25519",
            "tls.pem",
            "ca.pem",
            ".env",
            "home/notes",
        ],
        &root,
    );
    let needed = closure(&t, &Policy::new(std::slice::from_ref(&home)));
    let why = |p: &str| needed.skipped.get(&root.join(p)).map(|s| s.reason);
    assert_eq!(why("home/.ssh/id_ed25519"), Some(SkipReason::Secret));
    assert_eq!(why("tls.pem"), Some(SkipReason::Secret));
    assert_eq!(why(".env"), Some(SkipReason::Secret));
    assert_eq!(why("home/notes"), Some(SkipReason::Home));
    assert!(needed.entries.contains_key(&root.join("ca.pem")));
    let mut p = Policy::new(std::slice::from_ref(&home));
    p.include.push(home.join("notes"));
    assert!(closure(&t, &p).entries.contains_key(&home.join("notes")));
}

const THREAD_EXEC_C: &str = r#"
#include <pthread.h>
#include <unistd.h>
static void *run(void *arg) {
    (void)arg;
    execl("/bin/cat", "cat", "/etc/hostname", (char *)0);
    return 0;
}
int main(void) {
    pthread_t t;
    pthread_create(&t, 0, run, 0);
    pthread_join(t, 0);
    return 3; /* not reached: the exec replaces the whole process */
}
"#;

#[test]
fn exec_from_a_thread_keeps_the_leaders_pid() {
    let dir = tempfile::tempdir().unwrap();
    let bin = cc(dir.path(), "texec", THREAD_EXEC_C);
    let t = run(bin.to_str().unwrap(), &[], dir.path());
    assert!(
        t.accesses
            .iter()
            .any(|a| a.kind == AccessKind::Exec && a.path == Path::new("/bin/cat"))
    );
    assert!(
        t.accesses
            .iter()
            .any(|a| a.path == Path::new("/etc/hostname"))
    );
}

const VFORK_C: &str = r#"
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int st;
    pid_t p = vfork();
    if (p == 0) { execl("/bin/cat", "cat", "/etc/hostname", (char *)0); _exit(9); }
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 8;
}
"#;

#[test]
fn vfork_children_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let bin = cc(dir.path(), "vf", VFORK_C);
    let t = run(bin.to_str().unwrap(), &[], dir.path());
    assert!(
        t.accesses
            .iter()
            .any(|a| a.path == Path::new("/etc/hostname"))
    );
}

const HOSTILE_C: &str = r#"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    char *huge = malloc(20000);
    memset(huge, 'a', 19999); huge[19999] = 0;
    huge[0] = '/';
    open(huge, O_RDONLY);                          /* longer than PATH_MAX */
    syscall(SYS_openat, AT_FDCWD, (char *)8, O_RDONLY); /* unreadable pointer */
    syscall(SYS_openat, 12345, "rel", O_RDONLY);   /* a dirfd that is not open */
    syscall(0x40000000 | SYS_open, "/etc/hostname", O_RDONLY); /* x32 ABI number */
    return open("/etc/hostname", O_RDONLY) >= 0 ? 0 : 1;
}
"#;

#[test]
fn hostile_arguments_are_survived() {
    let dir = tempfile::tempdir().unwrap();
    let bin = cc(dir.path(), "hostile", HOSTILE_C);
    let t = run(bin.to_str().unwrap(), &[], dir.path());
    assert!(
        t.accesses
            .iter()
            .any(|a| a.path == Path::new("/etc/hostname"))
    );
    assert!(!t.accesses.iter().any(|a| a.path.as_os_str().len() > 4096));
    assert!(
        t.warnings.iter().any(|w| w.contains("another ABI")),
        "{:?}",
        t.warnings
    );
}

#[test]
fn signals_are_delivered_and_output_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&scenario(
        "/bin/sh",
        &["-c", "trap 'exit 7' USR1; kill -USR1 $$; sleep 5"],
        dir.path(),
    ))
    .unwrap();
    assert_eq!(t.exit, Exit::Code(7));
    let mut s = scenario(
        "/bin/sh",
        &["-c", "head -c 3000000 /dev/zero; echo err >&2; exit 4"],
        dir.path(),
    );
    s.output_limit = 1000;
    let t = trace(&s).unwrap();
    assert_eq!(t.exit, Exit::Code(4));
    assert_eq!(t.stdout.len(), 1000);
    assert!(t.stdout_truncated && !t.stderr_truncated);
    assert_eq!(t.stderr, b"err\n");
}

#[test]
fn setup_failures_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let e = trace(&scenario("no-such-program-xyz", &[], dir.path())).unwrap_err();
    assert!(matches!(e, TraceError::ProgramNotFound { .. }), "{e}");
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "not a program").unwrap();
    let e = trace(&scenario(plain.to_str().unwrap(), &[], dir.path())).unwrap_err();
    assert!(matches!(e, TraceError::Exec { .. }), "{e}");
    assert!(e.to_string().contains("plain.txt"));
    let e = trace(&scenario("/bin/true", &[], &dir.path().join("nowhere"))).unwrap_err();
    assert!(matches!(e, TraceError::Chdir { .. }), "{e}");
    let e = trace(&scenario("/bin/true", &["a\0b"], dir.path())).unwrap_err();
    assert!(matches!(e, TraceError::NulByte { .. }), "{e}");
}

#[test]
fn several_threads_trace_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let f = root.join(format!("f{i}"));
            std::fs::write(&f, format!("{i}")).unwrap();
            let root = root.clone();
            std::thread::spawn(move || {
                let t = run("/bin/sh", &["-c", &format!("cat {}", f.display())], &root);
                assert_eq!(String::from_utf8_lossy(&t.stdout), format!("{i}"));
                assert!(t.accesses.iter().any(|a| a.path == f));
                for j in (0..4).filter(|j| *j != i) {
                    assert!(
                        !t.accesses
                            .iter()
                            .any(|a| a.path == root.join(format!("f{j}")))
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
