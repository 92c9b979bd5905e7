//! Hostile host inputs against the resolver with the real filesystem: FIFOs, devices,
//! `/dev/stdin`, `/proc` files and sparse giants where a library, ld.so.cache or an
//! ld.so.conf include is expected; overlapping DT_NEEDED strings; a 200k-entry RUNPATH.
//!
//! Each case runs in a child process (this test binary re-executed, the `child` test),
//! under a 3 GiB address-space limit so a regression dies instead of eating the machine.
//! The parent holds the child's stdin open and never writes (so a read of `/dev/stdin`
//! would block), kills a child that outlives a generous watchdog (hang detection only,
//! not a speed assertion), checks the error the child printed, and bounds the children's
//! peak memory through `getrusage(RUSAGE_CHILDREN)`. Only this file's one test spawns
//! children, so that peak is the peak of these cases.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use husk_elf::{ElfError, FileKind, HostFs, RealFs, Resolver};

const CASE_ENV: &str = "HUSK_ELF_HOSTILE_CASE";
/// Peak resident memory any case may reach (KiB): 256 MiB.
const PEAK_BOUND_KIB: i64 = 256 * 1024;
/// Hang detection only: a case still running after this is reported as hung.
const WATCHDOG: Duration = Duration::from_secs(300);

/// (case, substrings its error must contain).
const CASES: &[(&str, &[&str])] = &[
    ("needed_fifo", &["refusing to read", "lib/libh.so", "FIFO"]),
    (
        "needed_symlink_to_fifo",
        &["refusing to read", "lib/libh.so", "FIFO"],
    ),
    (
        "needed_symlink_to_dev_zero",
        &["refusing to read", "lib/libh.so", "character device"],
    ),
    (
        "needed_dev_stdin",
        &["refusing to read", "lib/libh.so", "FIFO"],
    ),
    (
        "needed_proc_file",
        &["refusing to read", "lib/libh.so", "procfs"],
    ),
    (
        "root_dev_zero",
        &["refusing to read", "root", "character device"],
    ),
    (
        "needed_sparse_giant",
        &["refusing to read", "lib/libh.so", "larger than"],
    ),
    (
        "ld_so_cache_fifo",
        &["refusing to read", "/etc/ld.so.cache", "FIFO"],
    ),
    (
        "ld_so_conf_include_dev_zero",
        &["refusing to read", "conf.d/a.conf", "character device"],
    ),
    (
        "overlapping_needed",
        &["malformed", "dynamic strings total"],
    ),
    ("runpath_200k", &["libnothere.so", "searched 200", "more"]),
];

#[test]
fn hostile_host_inputs_are_refused_by_name_in_bounded_memory() {
    let exe = std::env::current_exe().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    for (case, want) in CASES {
        let out = out_dir.path().join(case);
        let mut child = Command::new(&exe)
            .args([
                "child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CASE_ENV, case)
            .stdin(Stdio::piped()) // held open, never written
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + WATCHDOG;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("case {case} hung (still running after {WATCHDOG:?})");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        drop(child.stdin.take());
        let text = std::fs::read_to_string(&out).unwrap();
        let peak = children_peak_kib();
        assert!(status.success(), "case {case} failed: {status}\n{text}");
        let line = text
            .lines()
            .find_map(|l| l.split_once("RESULT: ").map(|(_, r)| r))
            .unwrap_or_else(|| panic!("case {case} printed no result:\n{text}"));
        for w in *want {
            assert!(line.contains(w), "case {case}: {w:?} not in {line:?}");
        }
        assert!(
            peak < PEAK_BOUND_KIB,
            "case {case}: children's peak memory {peak} KiB is over {PEAK_BOUND_KIB} KiB"
        );
    }
}

fn children_peak_kib() -> i64 {
    // SAFETY: `rusage` is plain data, valid when zeroed; getrusage fills it in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is to a live, writable rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &raw mut ru) };
    assert_eq!(rc, 0, "getrusage: {}", io::Error::last_os_error());
    ru.ru_maxrss
}

#[test]
#[ignore = "a child of hostile_host_inputs_are_refused_by_name_in_bounded_memory"]
fn child() {
    let Ok(case) = std::env::var(CASE_ENV) else {
        return;
    };
    let limit = rustix::process::Rlimit {
        current: Some(3 << 30),
        maximum: Some(3 << 30),
    };
    rustix::process::setrlimit(rustix::process::Resource::As, limit).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let result = run_case(&case, dir.path());
    match result {
        Ok(()) => println!("RESULT: ok"),
        Err(e) => println!("RESULT: {e}"),
    }
}

fn run_case(case: &str, dir: &Path) -> Result<(), ElfError> {
    let lib_dir = dir.join("lib");
    std::fs::create_dir(&lib_dir).unwrap();
    let lib = lib_dir.join("libh.so");
    let root = dir.join("root");
    let runpath = lib_dir.to_str().unwrap().to_owned();
    std::fs::write(&root, elf(&[Dt::Needed("libh.so"), Dt::Runpath(&runpath)])).unwrap();
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let link = |target: &Path| std::os::unix::fs::symlink(target, &lib).unwrap();
    let fs = RealFs;
    let closure =
        |fs: &dyn HostFs, root: &Path| Resolver::new(fs).closure(&[root.to_path_buf()]).map(|_| ());
    match case {
        "needed_fifo" => mkfifo(&lib),
        "needed_symlink_to_fifo" => link(&fifo),
        "needed_symlink_to_dev_zero" => link(Path::new("/dev/zero")),
        "needed_dev_stdin" => link(Path::new("/dev/stdin")),
        "needed_proc_file" => link(Path::new("/proc/self/environ")),
        "root_dev_zero" => {
            std::fs::remove_file(&root).unwrap();
            std::os::unix::fs::symlink("/dev/zero", &root).unwrap();
        }
        "needed_sparse_giant" => {
            let f = std::fs::File::create(&lib).unwrap();
            f.set_len(5 << 30).unwrap();
        }
        "ld_so_cache_fifo" => {
            let fs = Redirect(vec![("/etc/ld.so.cache".into(), fifo)]);
            return closure(&fs, &root);
        }
        "ld_so_conf_include_dev_zero" => {
            let conf = dir.join("ld.so.conf");
            std::fs::create_dir(dir.join("conf.d")).unwrap();
            std::fs::write(&conf, format!("include {}/conf.d/*.conf\n", dir.display())).unwrap();
            std::os::unix::fs::symlink("/dev/zero", dir.join("conf.d/a.conf")).unwrap();
            let fs = Redirect(vec![("/etc/ld.so.conf".into(), conf)]);
            return closure(&fs, &root);
        }
        "overlapping_needed" => std::fs::write(&root, overlapping_needed()).unwrap(),
        "runpath_200k" => {
            let dirs: Vec<String> = (0..200_000)
                .map(|i| format!("{}/d{i}", lib_dir.display()))
                .collect();
            let rp = dirs.join(":");
            std::fs::write(&root, elf(&[Dt::Needed("libnothere.so"), Dt::Runpath(&rp)])).unwrap();
        }
        other => panic!("unknown case {other}"),
    }
    closure(&fs, &root)
}

/// 80 runs of 4000 non-NUL bytes, each named by 4000 DT_NEEDED entries at consecutive
/// offsets: 320k distinct names sharing tails, 640 MB if each were read as its own string.
fn overlapping_needed() -> Vec<u8> {
    let mut strtab = vec![0u8];
    let mut offsets = Vec::new();
    for run in 0..80u8 {
        let at = strtab.len() as u64;
        strtab.extend(std::iter::repeat_n(b'a' + run % 26, 4000));
        strtab.push(0);
        offsets.extend((0..4000).map(|i| at + i));
    }
    let dyns: Vec<(u64, u64)> = offsets.into_iter().map(|o| (1, o)).collect();
    elf_raw(&strtab, &dyns)
}

enum Dt<'a> {
    Needed(&'a str),
    Runpath(&'a str),
}

fn elf(entries: &[Dt<'_>]) -> Vec<u8> {
    let mut strtab = vec![0u8];
    let mut dyns = Vec::new();
    for e in entries {
        let (tag, s) = match e {
            Dt::Needed(s) => (1, s),
            Dt::Runpath(s) => (29, s),
        };
        dyns.push((tag, strtab.len() as u64));
        strtab.extend_from_slice(s.as_bytes());
        strtab.push(0);
    }
    elf_raw(&strtab, &dyns)
}

/// A minimal x86-64 ELF shared object: one PT_LOAD mapping the whole file at address 0
/// and a PT_DYNAMIC holding `dyns`, DT_STRTAB/DT_STRSZ pointing at `strtab`, DT_NULL.
fn elf_raw(strtab: &[u8], dyns: &[(u64, u64)]) -> Vec<u8> {
    const EHDR: usize = 64;
    const PHDR: usize = 56;
    let strtab_off = EHDR + 2 * PHDR;
    let dyn_off = (strtab_off + strtab.len()).next_multiple_of(8);
    let mut all: Vec<(u64, u64)> = dyns.to_vec();
    all.extend([(5, strtab_off as u64), (10, strtab.len() as u64), (0, 0)]);
    let dyn_len = all.len() * 16;
    let total = (dyn_off + dyn_len) as u64;
    let mut b = Vec::with_capacity(dyn_off + dyn_len);
    b.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    b.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
    b.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes()); // entry
    b.extend_from_slice(&(EHDR as u64).to_le_bytes()); // phoff
    b.extend_from_slice(&0u64.to_le_bytes()); // shoff
    b.extend_from_slice(&0u32.to_le_bytes()); // flags
    for v in [EHDR as u16, PHDR as u16, 2, 64, 0, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    let phdr = |b: &mut Vec<u8>, ty: u32, off: u64, size: u64| {
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&6u32.to_le_bytes()); // RW
        for v in [off, off, off, size, size, 8] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    };
    phdr(&mut b, 1, 0, total);
    phdr(&mut b, 2, dyn_off as u64, dyn_len as u64);
    b.extend_from_slice(strtab);
    b.resize(dyn_off, 0);
    for (tag, val) in all {
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&val.to_le_bytes());
    }
    b
}

fn mkfifo(path: &Path) {
    use rustix::fs::{CWD, FileType, Mode, mknodat};
    mknodat(CWD, path, FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
}

/// The real filesystem, with some absolute paths read from elsewhere (a private
/// ld.so.cache or ld.so.conf without touching the host's).
struct Redirect(Vec<(PathBuf, PathBuf)>);

impl Redirect {
    fn map<'a>(&'a self, path: &'a Path) -> &'a Path {
        self.0
            .iter()
            .find(|(from, _)| from == path)
            .map_or(path, |(_, to)| to.as_path())
    }
}

impl HostFs for Redirect {
    fn read_limited(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        RealFs.read_limited(self.map(path), limit)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        RealFs.read_link(self.map(path))
    }
    fn file_type(&self, path: &Path) -> io::Result<FileKind> {
        RealFs.file_type(self.map(path))
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        RealFs.read_dir(self.map(path))
    }
}
