//! Hostile images, contained (issue 15, the image-reading half): each class of crafted input
//! runs the built `husk` on it and checks a bound that failed before the fix: the peak memory
//! of the child (getrusage(RUSAGE_CHILDREN).ru_maxrss), a limit error that names what was
//! refused, or an answer at all (a hang is caught by a generous watchdog, never by timing).
//!
//! The memory figure is the largest of every child this test binary has waited for, so the
//! measured runs take a lock and each checks the same bound: the first run over it fails.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use husk_oci::Digest;

/// Peak memory any husk run on hostile input may reach.
const MEMORY_BOUND_KIB: i64 = 512 * 1024;
/// A run that takes longer than this is taken as a hang.
const WATCHDOG: Duration = Duration::from_secs(300);

static SERIAL: Mutex<()> = Mutex::new(());

struct Outcome {
    code: i32,
    stderr: String,
    stdout: String,
}

/// Run husk with `args` (stdin from `stdin`, or null) under the watchdog; check the peak
/// memory of every child so far against [`MEMORY_BOUND_KIB`].
fn husk(dir: &Path, args: &[&str], stdin: Option<Stdio>) -> Outcome {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let child = Command::new(env!("CARGO_BIN_EXE_husk"))
        .current_dir(dir)
        .env("HUSK_CACHE_DIR", dir.join("cache"))
        .args(args)
        .stdin(stdin.unwrap_or_else(Stdio::null))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    let watchdog = std::thread::spawn(move || {
        if rx.recv_timeout(WATCHDOG).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("husk {pid} hung (watchdog)");
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = tx.send(());
    watchdog.join().expect("no hang");
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    let peak = usage.max_rss();
    let o = Outcome {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    };
    assert!(
        peak <= MEMORY_BOUND_KIB,
        "husk {args:?} peaked at {peak} KiB (bound {MEMORY_BOUND_KIB} KiB)\n{}",
        o.stderr
    );
    o
}

fn refused(o: &Outcome, needle: &str) {
    assert_ne!(o.code, 0, "refused: {needle}\n{}", o.stdout);
    assert!(
        o.stderr.contains(needle),
        "want {needle:?} in:\n{}",
        o.stderr
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A stored layer: its blob digest and size, and its diff_id.
type Stored = (Digest, usize, Digest);

/// Writes a gzipped layer blob to a file while hashing both forms, so the test process
/// never holds a big layer (its own peak memory would show in its children's figure: a
/// child spawned with vfork reports its parent's high-water mark until it execs).
struct Streamed {
    gz: GzEncoder<Hashing<std::fs::File>>,
    diff: sha2::Sha256,
}

struct Hashing<W> {
    inner: W,
    hash: sha2::Sha256,
    len: usize,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(b)?;
        sha2::Digest::update(&mut self.hash, &b[..n]);
        self.len += n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Write for Streamed {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.gz.write(b)?;
        sha2::Digest::update(&mut self.diff, &b[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.gz.flush()
    }
}

fn sha(h: sha2::Sha256) -> Digest {
    let hex: String = sha2::Digest::finalize(h)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}").parse().unwrap()
}

/// A layer written straight into `dir`'s blob store by `fill`.
fn stream_layer(dir: &Path, fill: impl FnOnce(&mut tar::Builder<Streamed>)) -> Stored {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let tmp = blobs.join("partial");
    let out = Hashing {
        inner: std::fs::File::create(&tmp).unwrap(),
        hash: sha2::Sha256::default(),
        len: 0,
    };
    let mut b = tar::Builder::new(Streamed {
        gz: GzEncoder::new(out, Compression::fast()),
        diff: sha2::Sha256::default(),
    });
    fill(&mut b);
    let s = b.into_inner().unwrap();
    let out = s.gz.finish().unwrap();
    let (blob, size) = (sha(out.hash), out.len);
    std::fs::rename(&tmp, blobs.join(blob.hex())).unwrap();
    (blob, size, sha(s.diff))
}

/// An OCI layout at `dir` with one image, tag `t`, whose layers are `list` indexes into
/// `tars` (uncompressed tars, stored gzipped; a repeated index is the same blob again).
fn layout(dir: &Path, tars: &[Vec<u8>], list: &[usize]) -> String {
    let stored: Vec<Stored> = tars
        .iter()
        .map(|t| {
            let gz = gzip(t);
            let blobs = dir.join("blobs/sha256");
            std::fs::create_dir_all(&blobs).unwrap();
            let d = Digest::sha256(&gz);
            std::fs::write(blobs.join(d.hex()), &gz).unwrap();
            (d, gz.len(), Digest::sha256(t))
        })
        .collect();
    layout_of(dir, &stored, list)
}

/// The documents of a layout whose layer blobs are stored already.
fn layout_of(dir: &Path, stored: &[Stored], list: &[usize]) -> String {
    let diff_ids: Vec<String> = list.iter().map(|&i| stored[i].2.to_string()).collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let layers: Vec<_> = list
        .iter()
        .map(|&i| {
            let (d, s, _) = &stored[i];
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": d.to_string(), "size": s})
        })
        .collect();
    common::write_layout(dir, &config, &layers)
}

/// A tar of regular files (long names go through GNU long-name records).
fn tar_of(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().to_path_buf();
    (t, p)
}

// ---------- unbounded memory: paths ----------

#[test]
fn many_long_deep_paths_hit_the_path_budget_not_the_memory() {
    // Each path is 1000 directories deep under its own top directory: one node per
    // ancestor, each of which used to hold its own full path (gigabytes for `ls`).
    for (tops, depth, name) in [
        (3000, 1000, "a"),
        (600, 2000, "b"),
        (20_000, 200, "abcdefghij"),
    ] {
        let (_t, dir) = tmp();
        let files = (0..tops).map(|i| {
            let p = format!("t{i}/{}f", format!("{name}/").repeat(depth));
            let p = &p[..p.len().min(4000)];
            (p.to_owned(), Vec::new())
        });
        let image = layout(&dir.join("l"), &[tar_of(files)], &[0]);
        // A smaller budget than the default 256 MiB keeps the debug build quick; the
        // memory bound holds either way (the default is checked by the first variant).
        let budget = if tops == 3000 { None } else { Some("64000000") };
        let mut args = vec!["ls", image.as_str(), "/"];
        if let Some(b) = budget {
            args.extend(["--max-path-bytes", b]);
        }
        let o = husk(&dir, &args, None);
        refused(&o, "bytes of path names in the view");
    }
}

#[test]
fn thousands_of_files_at_depth_two_thousand_are_listed() {
    // Quadratic work (every ancestor re-walked per file) used to time out here.
    let (_t, dir) = tmp();
    let deep = "d/".repeat(1990);
    let files = (0..3000).map(|i| (format!("{deep}f{i}"), Vec::new()));
    let image = layout(&dir.join("l"), &[tar_of(files)], &[0]);
    let o = husk(&dir, &["ls", &image, &format!("/{deep}f2999")], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = husk(&dir, &["tree", &image, "/"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

// ---------- no global budget ----------

#[test]
fn a_bomb_layer_listed_many_times_is_decompressed_once() {
    let (_t, dir) = tmp();
    let bomb = tar_of([("zeros".to_owned(), vec![0u8; 8 << 20])]);
    let other = tar_of([("x".to_owned(), b"x".to_vec())]);
    let list: Vec<usize> = (0..60).map(|i| usize::from(i % 7 == 3)).collect();
    let image = layout(&dir.join("l"), &[bomb.clone(), other], &list);
    // 60 copies would be 500 MB; read once they are 8 MiB, within a 20 MB image budget.
    let o = husk(
        &dir,
        &["ls", "--max-image-bytes", "20000000", &image, "/"],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("zeros"), "{}", o.stdout);
    // Distinct bombs add up against the same budget.
    let bombs: Vec<Vec<u8>> = (0..4)
        .map(|i| tar_of([(format!("z{i}"), vec![0u8; 8 << 20])]))
        .collect();
    let image = layout(&dir.join("m"), &bombs, &[0, 1, 2, 3]);
    let o = husk(
        &dir,
        &["ls", "--max-image-bytes", "20000000", &image, "/"],
        None,
    );
    refused(&o, "decompressed size of all layers together");
}

#[test]
fn audit_and_doctor_read_a_layer_listed_many_times_once() {
    // The same 8 MiB layer listed 60 times: read each time it would be 500 MB against a
    // 20 MB image budget (and the memory bound); read once it fits.
    let (_t, dir) = tmp();
    let bomb = tar_of([
        ("zeros".to_owned(), vec![0u8; 8 << 20]),
        (
            "etc/passwd".to_owned(),
            b"root:x:0:0:root:/root:/bin/sh\n".to_vec(),
        ),
    ]);
    let other = tar_of([("x".to_owned(), b"x".to_vec())]);
    let list: Vec<usize> = (0..60).map(|i| usize::from(i % 7 == 3)).collect();
    let image = layout(&dir.join("l"), &[bomb, other], &list);
    for cmd in ["audit", "doctor"] {
        let o = husk(&dir, &[cmd, "--max-image-bytes", "20000000", &image], None);
        assert!(o.code == 0 || o.code == 1, "{cmd}: {}", o.stderr);
        assert!(
            !o.stderr.contains("decompressed size"),
            "{cmd}: {}",
            o.stderr
        );
    }
}

// ---------- unbounded memory: audit's kept content ----------

#[test]
fn audit_caps_the_bytes_it_keeps_for_rules() {
    let (_t, dir) = tmp();
    for (name, count) in [("certs", 160usize), ("passwds", 120)] {
        let l = dir.join(name);
        let stored = stream_layer(&l, |b| {
            for i in 0..count {
                let mut data = if name == "certs" {
                    b"-----BEGIN CERTIFICATE-----\n".to_vec()
                } else {
                    b"root:x:0:0:root:/root:/bin/sh\n".to_vec()
                };
                data.resize(4 << 20, b'A');
                let path = if name == "certs" {
                    format!("c/{i}.pem")
                } else {
                    format!("p{i}/passwd")
                };
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, path, data.as_slice()).unwrap();
            }
        });
        let image = layout_of(&l, &[stored], &[0]);
        let o = husk(&dir, &["audit", &image], None);
        refused(&o, "bytes of passwd, group and certificate files");
    }
}

// ---------- the outer archive's index ----------

#[test]
fn huge_extension_records_in_an_image_archive_are_refused_unread() {
    let (_t, dir) = tmp();
    for flag in [b'x', b'g', b'L', b'K'] {
        // An 8 KB sparse-looking archive claiming a 1.8 GB record.
        let mut h = [0u8; 512];
        h[..5].copy_from_slice(b"x/big");
        for (at, len, v) in [(100, 8, 0o644u64), (108, 8, 0), (116, 8, 0), (136, 12, 0)] {
            let s = format!("{v:0w$o}\0", w = len - 1);
            h[at..at + len].copy_from_slice(s.as_bytes());
        }
        h[124..136].copy_from_slice(b"15321103000\0"); // 1.8e9 in octal
        h[156] = flag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].fill(b' ');
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let mut bytes = h.to_vec();
        bytes.resize(8192, b'A');
        for (transport, file) in [("oci-archive", "o.tar"), ("docker-archive", "d.tar")] {
            std::fs::write(dir.join(file), &bytes).unwrap();
            let o = husk(&dir, &["ls", &format!("{transport}:{file}"), "/"], None);
            refused(&o, "over the limit");
        }
    }
}

// ---------- parser differential: PAX sizes ----------

#[test]
fn pax_sizes_that_would_wrap_or_that_go_refuses_are_refused() {
    let (_t, dir) = tmp();
    for (i, value) in [
        "18446744073709551615",
        "9223372036854775808",
        "-1",
        "1e3",
        "0x10",
    ]
    .iter()
    .enumerate()
    {
        let mut b = tar::Builder::new(Vec::new());
        b.append_pax_extensions([("size", value.as_bytes())])
            .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_path("real").unwrap();
        h.set_size(0);
        h.set_cksum();
        b.append(&h, &b""[..]).unwrap();
        // What a wrapped size would have parsed as more headers.
        let mut hidden = tar::Header::new_ustar();
        hidden.set_path("hidden").unwrap();
        hidden.set_size(0);
        hidden.set_cksum();
        b.append(&hidden, &b""[..]).unwrap();
        let image = layout(&dir.join(format!("l{i}")), &[b.into_inner().unwrap()], &[0]);
        let o = husk(&dir, &["ls", &image, "/"], None);
        refused(&o, "PAX size");
        assert!(!o.stdout.contains("hidden"));
    }
}

// ---------- non-regular files as input ----------

#[test]
fn a_fifo_or_stdin_is_not_taken_as_an_image_archive() {
    let (_t, dir) = tmp();
    let fifo = dir.join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    for transport in ["oci-archive", "docker-archive"] {
        for cmd in ["ls", "inspect", "audit", "validate"] {
            let target = format!("{transport}:{}", fifo.display());
            let mut args = vec![cmd, target.as_str()];
            if cmd == "ls" {
                args.push("/");
            }
            let o = husk(&dir, &args, None);
            refused(&o, "is a FIFO, not a regular file");
        }
        // /dev/stdin as a pipe from a writer that never writes.
        let mut sleeper = Command::new("sleep")
            .arg("600")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pipe = sleeper.stdout.take().unwrap();
        let o = husk(
            &dir,
            &["ls", &format!("{transport}:/dev/stdin"), "/"],
            Some(Stdio::from(pipe)),
        );
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        refused(&o, "not a regular file");
        let o = husk(&dir, &["ls", &format!("{transport}:/dev/zero"), "/"], None);
        refused(&o, "is a character device");
    }
}

// ---------- symlinks inside a layout ----------

/// Plants links in a layout (first path), moving what they replace to the host (second).
type Plant = fn(&Path, &Path);

#[test]
fn symlinks_inside_an_oci_layout_are_refused_not_followed() {
    let (_t, dir) = tmp();
    let files = [("etc/passwd".to_owned(), b"root:x:0:0::/:/bin/sh\n".to_vec())];
    let tar = tar_of(files);
    let cases: [(&str, Plant); 3] = [
        ("blobs", |l, host| {
            std::fs::rename(l.join("blobs"), host.join("blobs")).unwrap();
            std::os::unix::fs::symlink(host.join("blobs"), l.join("blobs")).unwrap();
        }),
        ("blobs/sha256", |l, host| {
            std::fs::rename(l.join("blobs/sha256"), host.join("sha256")).unwrap();
            std::os::unix::fs::symlink(host.join("sha256"), l.join("blobs/sha256")).unwrap();
        }),
        ("a blob", |l, host| {
            let blobs = l.join("blobs/sha256");
            for e in std::fs::read_dir(&blobs).unwrap() {
                let e = e.unwrap();
                let moved = host.join(e.file_name());
                std::fs::rename(e.path(), &moved).unwrap();
                std::os::unix::fs::symlink(&moved, e.path()).unwrap();
            }
        }),
    ];
    for (i, (what, plant)) in cases.iter().enumerate() {
        let l = dir.join(format!("l{i}"));
        let host = dir.join(format!("host{i}"));
        std::fs::create_dir_all(&host).unwrap();
        let image = layout(&l, std::slice::from_ref(&tar), &[0]);
        plant(&l, &host);
        for cmd in ["inspect", "ls"] {
            let mut args = vec![cmd, image.as_str()];
            if cmd == "ls" {
                args.push("/");
            }
            let o = husk(&dir, &args, None);
            refused(&o, "symlink");
            assert!(!o.stdout.contains("passwd"), "{what}: {}", o.stdout);
        }
    }
}
