//! `husk doctor` end to end: broken images built with husk flags and with podman from
//! FROM-scratch Containerfiles (one per cause), each diagnosed statically with the right
//! rule, cause and fix, and run with `--run` so podman's real message maps to the same
//! cause; working images (husk-built, podman-built, a busybox rootfs, and with
//! HUSK_TEST_DEBIAN=1 a mmdebstrap minbase rootfs) have nothing blocking.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{cc, husk, podman, podman_storage, require, run, whoami_dynamic, whoami_static};
use serde_json::Value;

/// A scratch directory, a layer cache and the podman images to remove at the end.
struct Lab {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    prefix: String,
    images: Vec<String>,
}

impl Lab {
    fn new() -> Lab {
        Lab {
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
            prefix: format!("husk-doctor-{}", std::process::id()),
            images: Vec::new(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `husk build ARGS -o oci:DIR/NAME`, the reference.
    fn husk_build(&self, name: &str, args: &[&str]) -> String {
        let out = format!("oci:{}", self.path(name).display());
        husk(self.cache.path())
            .arg("build")
            .args(args)
            .args(["-o", &out, "-q"])
            .assert()
            .success();
        out
    }

    /// A podman image from a FROM-scratch Containerfile and files (name, bytes, mode).
    fn podman_build(
        &mut self,
        name: &str,
        containerfile: &str,
        files: &[(&str, &[u8], u32)],
    ) -> String {
        let ctx = self.path(&format!("ctx-{name}"));
        fs::create_dir_all(&ctx).unwrap();
        fs::write(ctx.join("Containerfile"), containerfile).unwrap();
        for (f, bytes, mode) in files {
            let p = ctx.join(f);
            fs::write(&p, bytes).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(*mode)).unwrap();
        }
        let tag = format!("localhost/{}-{name}:1", self.prefix);
        let _storage = podman_storage();
        run(podman()
            .args(["build", "--no-cache", "-q", "-t", &tag])
            .arg(&ctx));
        self.images.push(tag.clone());
        format!("podman:{tag}")
    }

    /// `husk doctor --format json [--run] REF [-- ARGS]`: exit code and document.
    fn doctor(&self, reference: &str, run_it: bool, args: &[&str]) -> (i32, Value) {
        let mut c = husk(self.cache.path());
        c.args(["doctor", "--format", "json", "--timeout", "10", reference]);
        if run_it {
            c.arg("--run");
        }
        if !args.is_empty() {
            c.arg("--").args(args);
        }
        let out = c.output().unwrap();
        let code = out.status.code().unwrap_or(-1);
        assert_ne!(
            code,
            2,
            "doctor failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (code, serde_json::from_slice(&out.stdout).unwrap())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _storage = podman_storage();
        for i in &self.images {
            let _ = podman().args(["rmi", "-f", i]).output();
        }
    }
}

/// The rules of a group (`blocking` or `may_fail`), with their causes and fixes.
fn group(v: &Value, key: &str) -> Vec<(String, String, String)> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
            (s("rule"), s("cause"), s("fix"))
        })
        .collect()
}

/// The image blocks start with `rule` whose cause contains `needle`; with `run`, podman's
/// message is classified as `failure` and explained by the same rule.
fn expect(lab: &Lab, reference: &str, rule: &str, needle: &str, failure: Option<&str>) {
    let (code, v) = lab.doctor(reference, false, &[]);
    assert_eq!(code, 1, "{reference}: {v:#}");
    let blocking = group(&v, "blocking");
    assert!(
        blocking
            .iter()
            .any(|(r, c, f)| r == rule && c.contains(needle) && !f.is_empty()),
        "{reference}: expected {rule} with {needle:?}, got {blocking:#?}"
    );
    let Some(failure) = failure else { return };
    let (code, v) = lab.doctor(reference, true, &[]);
    assert_eq!(code, 1, "{reference}: {v:#}");
    let e = &v["run"]["explanation"];
    assert_eq!(e["failure"], failure, "{reference}: {:#}", v["run"]);
    let causes: Vec<&str> = e["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["rule"].as_str())
        .collect();
    assert!(causes.contains(&rule), "{reference}: {:#}", v["run"]);
}

/// The host's loader and libc, to build glibc images by hand.
fn glibc_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("ld.so", fs::read("/lib64/ld-linux-x86-64.so.2").unwrap()),
        (
            "libc.so.6",
            fs::read("/lib/x86_64-linux-gnu/libc.so.6").unwrap(),
        ),
    ]
}

const GLIBC_COPY: &str =
    "COPY ld.so /lib64/ld-linux-x86-64.so.2\nCOPY libc.so.6 /lib/x86_64-linux-gnu/libc.so.6\n";

/// libfoo.so.1 defining FOO_2.0 (to link against) and one defining only FOO_1.0, and a
/// program linked against the first.
fn versioned(dir: &Path) -> (PathBuf, PathBuf) {
    fs::write(dir.join("foo.c"), "int foo(void) { return 2; }\n").unwrap();
    fs::write(
        dir.join("main.c"),
        "int foo(void);\nint main(void) { return foo() - 2; }\n",
    )
    .unwrap();
    for v in ["1", "2"] {
        fs::create_dir_all(dir.join(format!("v{v}"))).unwrap();
        let script = dir.join(format!("foo{v}.map"));
        fs::write(
            &script,
            format!("FOO_{v}.0 {{ global: foo; local: *; }};\n"),
        )
        .unwrap();
        cc(
            dir,
            &format!("v{v}/libfoo.so.1"),
            &[
                "-shared",
                "-fPIC",
                "-Wl,-soname,libfoo.so.1",
                &format!("-Wl,--version-script={}", script.display()),
                dir.join("foo.c").to_str().unwrap(),
            ],
        );
    }
    let prog = cc(
        dir,
        "prog",
        &[
            dir.join("main.c").to_str().unwrap(),
            dir.join("v2/libfoo.so.1").to_str().unwrap(),
        ],
    );
    (prog, dir.join("v1/libfoo.so.1"))
}

#[test]
fn broken_images_name_their_cause_and_podman_agrees() {
    if !require("podman") || !require("gcc") {
        return;
    }
    let mut lab = Lab::new();
    let d = lab.dir.path().to_path_buf();
    let whoami = fs::read(whoami_static(&d)).unwrap();
    let glibc = glibc_files();
    let (prog, foo1) = versioned(&d);
    let (prog, foo1) = (fs::read(prog).unwrap(), fs::read(foo1).unwrap());
    let arm64 = husk_elf::testing::ElfBuilder::aarch64()
        .e_type(2)
        .no_dynamic()
        .build();
    let arm64_lib = husk_elf::testing::ElfBuilder::aarch64()
        .soname("libfoo.so.1")
        .build();
    let musl = husk_elf::testing::ElfBuilder::x86_64()
        .interp("/lib/ld-musl-x86_64.so.1")
        .needed("libc.so")
        .build();
    let with_glibc = |extra: &[(&'static str, &[u8], u32)]| -> Vec<(&'static str, Vec<u8>, u32)> {
        glibc
            .iter()
            .map(|(n, b)| (*n, b.clone(), 0o755))
            .chain(extra.iter().map(|(n, b, m)| (*n, b.to_vec(), *m)))
            .collect()
    };

    // 1. husk build --no-libraries: the loader is missing.
    let dynamic = whoami_dynamic(&d.join("dyn"));
    let r = lab.husk_build("nolibs", &[dynamic.to_str().unwrap(), "--no-libraries"]);
    expect(
        &lab,
        &r,
        "HUSK-I006",
        "/lib64/ld-linux-x86-64.so.2",
        Some("not-found"),
    );

    // 2. The entrypoint does not exist.
    let r = lab.podman_build(
        "missing",
        "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/nope\"]\n",
        &[("app", &whoami, 0o755)],
    );
    expect(&lab, &r, "HUSK-I004", "does not exist", Some("not-found"));

    // 3. Not executable by the image's user.
    let r = lab.podman_build(
        "noexec",
        "FROM scratch\nCOPY app /app\nUSER 65532\nENTRYPOINT [\"/app\"]\n",
        &[("app", &whoami, 0o600)],
    );
    expect(
        &lab,
        &r,
        "HUSK-I004",
        "not executable by user",
        Some("permission-denied"),
    );

    // 4. Neither ELF nor script.
    let r = lab.podman_build(
        "text",
        "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
        &[("app", b"echo hi\n", 0o755)],
    );
    expect(
        &lab,
        &r,
        "HUSK-I004",
        "exec format error",
        Some("exec-format"),
    );

    // 5. An arm64 program in an amd64 image.
    let r = lab.podman_build(
        "arm64",
        "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
        &[("app", &arm64, 0o755)],
    );
    // The kernel refuses it (exec format error) unless binfmt_misc hands aarch64 programs
    // to qemu-user-static, as the multi-platform tests set up: then it starts under
    // emulation and the static finding is what explains it.
    // (binfmt_misc's handlers are the kernel's: one registered anywhere applies even where
    // /proc/sys/fs/binfmt_misc is not mounted, so an installed qemu-aarch64 counts too.)
    let emulated = fs::read_to_string("/proc/sys/fs/binfmt_misc/qemu-aarch64")
        .is_ok_and(|s| s.starts_with("enabled"))
        || Path::new("/usr/bin/qemu-aarch64-static").exists()
        || Path::new("/usr/bin/qemu-aarch64").exists();
    expect(
        &lab,
        &r,
        "HUSK-I005",
        "arm64",
        (!emulated).then_some("exec-format"),
    );

    // 6. Shell form with no /bin/sh.
    let r = lab.podman_build(
        "shellform",
        "FROM scratch\nCOPY app /app\nENTRYPOINT /app --serve\n",
        &[("app", &whoami, 0o755)],
    );
    expect(&lab, &r, "HUSK-I007", "shell form", Some("not-found"));

    // 7. A script whose interpreter is missing.
    let r = lab.podman_build(
        "bash",
        "FROM scratch\nCOPY run.sh /run.sh\nENTRYPOINT [\"/run.sh\"]\n",
        &[("run.sh", b"#!/bin/bash\necho hi\n", 0o755)],
    );
    expect(&lab, &r, "HUSK-I007", "/bin/bash", Some("not-found"));

    // 7b. The interpreter of the interpreter is missing: the kernel checks every level.
    let r = lab.podman_build(
        "chainmiss",
        "FROM scratch\nCOPY s0 /s0\nCOPY s1 /s1\nENTRYPOINT [\"/s0\"]\n",
        &[("s0", b"#!/s1\n", 0o755), ("s1", b"#!/missing\n", 0o755)],
    );
    expect(
        &lab,
        &r,
        "HUSK-I007",
        "/s0 -> /s1 -> /missing",
        Some("not-found"),
    );

    // 7c. A script that is its own interpreter: ELOOP.
    let r = lab.podman_build(
        "selfloop",
        "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
        &[("app", b"#!/app\n", 0o755)],
    );
    expect(&lab, &r, "HUSK-I007", "/app -> /app", Some("loop"));

    // 7d. Six scripts in a row, the last one's interpreter a working program: the kernel
    // follows five (ELOOP).
    let mut files: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| {
            let next = if i == 5 {
                "/bin/prog".to_owned()
            } else {
                format!("/s{}", i + 1)
            };
            (format!("s{i}"), format!("#!{next}\n").into_bytes())
        })
        .collect();
    files.push(("prog".to_owned(), whoami.clone()));
    let cf = format!(
        "FROM scratch\n{}COPY prog /bin/prog\nENTRYPOINT [\"/s0\"]\n",
        (0..6)
            .map(|i| format!("COPY s{i} /s{i}\n"))
            .collect::<String>()
    );
    let named: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice(), 0o755))
        .collect();
    let r = lab.podman_build("deep", &cf, &named);
    expect(&lab, &r, "HUSK-I007", "more than 5", Some("loop"));

    // 7e. An ELF file that is only its magic and garbage.
    let r = lab.podman_build(
        "garbage",
        "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
        &[("app", b"\x7fELF garbage", 0o755)],
    );
    expect(
        &lab,
        &r,
        "HUSK-I004",
        "broken ELF file",
        Some("exec-format"),
    );

    // 7f. A program cut inside a segment: the kernel starts it and it is killed at
    // once. Not blocking (execve succeeds), but "may fail", and the run fails.
    let r = lab.podman_build(
        "cut",
        "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
        &[("app", &whoami[..whoami.len() / 2], 0o755)],
    );
    let (code, v) = lab.doctor(&r, false, &[]);
    assert_eq!(code, 0, "{v:#}");
    let may = group(&v, "may_fail");
    assert!(
        may.iter()
            .any(|(rule, c, _)| rule == "HUSK-I027" && c.contains("cut short")),
        "{may:#?}"
    );
    let (code, v) = lab.doctor(&r, true, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["run"]["explanation"]["started"], false, "{:#}", v["run"]);

    // 8. A user name with no /etc/passwd.
    let r = lab.podman_build(
        "user",
        "FROM scratch\nCOPY app /app\nUSER app\nENTRYPOINT [\"/app\"]\n",
        &[("app", &whoami, 0o755)],
    );
    expect(&lab, &r, "HUSK-I003", "\"app\"", Some("unknown-user"));

    // 9. A symbol version the image's library does not define.
    let files = with_glibc(&[("prog", &prog, 0o755), ("libfoo.so.1", &foo1, 0o644)]);
    let cf = format!(
        "FROM scratch\n{GLIBC_COPY}COPY libfoo.so.1 /lib/x86_64-linux-gnu/libfoo.so.1\nCOPY prog /app\nENTRYPOINT [\"/app\"]\n"
    );
    let r = lab.podman_build("symver", &cf, &borrow(&files));
    expect(&lab, &r, "HUSK-I022", "FOO_2.0", Some("symbol-version"));

    // 10. A DT_NEEDED library missing (the loader is there).
    let files = with_glibc(&[("prog", &prog, 0o755)]);
    let cf = format!("FROM scratch\n{GLIBC_COPY}COPY prog /app\nENTRYPOINT [\"/app\"]\n");
    let r = lab.podman_build("nolib", &cf, &borrow(&files));
    expect(
        &lab,
        &r,
        "HUSK-I006",
        "libfoo.so.1",
        Some("missing-library"),
    );

    // 11. The library is there, for another architecture.
    let files = with_glibc(&[("prog", &prog, 0o755), ("libfoo.so.1", &arm64_lib, 0o644)]);
    let cf = format!(
        "FROM scratch\n{GLIBC_COPY}COPY libfoo.so.1 /lib/x86_64-linux-gnu/libfoo.so.1\nCOPY prog /app\nENTRYPOINT [\"/app\"]\n"
    );
    let r = lab.podman_build("libarch", &cf, &borrow(&files));
    expect(&lab, &r, "HUSK-I006", "arm64", Some("missing-library"));

    // 12. A musl program in a glibc image.
    let files = with_glibc(&[("app", &musl, 0o755)]);
    let cf = format!("FROM scratch\n{GLIBC_COPY}COPY app /app\nENTRYPOINT [\"/app\"]\n");
    let r = lab.podman_build("musl", &cf, &borrow(&files));
    expect(
        &lab,
        &r,
        "HUSK-I006",
        "linked against musl",
        Some("not-found"),
    );

    // 13. A script whose interpreter exists but is itself broken (a library missing).
    let files = with_glibc(&[
        ("prog", &prog, 0o755),
        ("run.sh", b"#!/usr/bin/tool\n", 0o755),
    ]);
    let cf = format!(
        "FROM scratch\n{GLIBC_COPY}COPY prog /usr/bin/tool\nCOPY run.sh /run.sh\nENTRYPOINT [\"/run.sh\"]\n"
    );
    let r = lab.podman_build("chain", &cf, &borrow(&files));
    expect(
        &lab,
        &r,
        "HUSK-I006",
        "libfoo.so.1",
        Some("missing-library"),
    );

    // 14. python without its standard library (husk build copies the binary and its libraries).
    if Path::new("/usr/bin/python3.11").exists() {
        let r = lab.husk_build(
            "python",
            &["/usr/bin/python3.11", "--dest", "/usr/bin/python3.11"],
        );
        expect(
            &lab,
            &r,
            "HUSK-I023",
            "python3.11/os.py",
            Some("runtime-stdlib"),
        );
    }

    // 15. Nothing to run at all.
    let r = lab.podman_build(
        "nocmd",
        "FROM scratch\nCOPY app /app\n",
        &[("app", &whoami, 0o755)],
    );
    expect(&lab, &r, "HUSK-I004", "neither Entrypoint nor Cmd", None);

    // 16. A working directory that is a file.
    let r = lab.husk_build(
        "workdir",
        &[
            d.join("whoami-static").to_str().unwrap(),
            "--file",
            &format!("{}:/srv", d.join("foo.c").display()),
            "--workdir",
            "/srv",
        ],
    );
    expect(&lab, &r, "HUSK-I024", "not a directory", Some("workdir"));
}

#[test]
fn problems_that_let_it_start_do_not_block() {
    let lab = Lab::new();
    let d = lab.dir.path();
    let whoami = whoami_static(d);
    let w = whoami.to_str().unwrap();
    let r = lab.husk_build(
        "tz",
        &[
            w,
            "-e",
            "TZ=Europe/Paris",
            "--healthcheck",
            "curl",
            "--healthcheck=-f",
        ],
    );
    let (code, v) = lab.doctor(&r, false, &[]);
    assert_eq!(code, 0, "{v:#}");
    let may: Vec<String> = group(&v, "may_fail").into_iter().map(|p| p.0).collect();
    assert!(
        may.contains(&"HUSK-I025".to_owned()) && may.contains(&"HUSK-I019".to_owned()),
        "{may:?}"
    );
    // ARGS replace Cmd: a missing program given on the command line blocks.
    let (code, v) = lab.doctor(&r, false, &["sleep"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["argv"][1], "sleep");
    // Text output groups and says what to do.
    let out = husk(lab.cache.path())
        .args(["doctor", &r])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("may fail:") && text.contains("fine:") && text.contains("fix:"),
        "{text}"
    );
    // Errors exit 2 and say what failed.
    let out = husk(lab.cache.path())
        .args(["doctor", "oci:/nonexistent/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn working_images_have_nothing_blocking() {
    let mut lab = Lab::new();
    let d = lab.dir.path().to_path_buf();
    let stat = whoami_static(&d);
    let dynamic = whoami_dynamic(&d.join("dyn"));
    let mut refs = vec![
        lab.husk_build("static", &[stat.to_str().unwrap()]),
        lab.husk_build("dynamic", &[dynamic.to_str().unwrap()]),
        lab.husk_build("ls", &["/bin/ls"]),
    ];
    if require("podman") {
        let whoami = fs::read(&stat).unwrap();
        refs.push(lab.podman_build(
            "ok",
            "FROM scratch\nCOPY app /app\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n",
            &[("app", &whoami, 0o755)],
        ));
        refs.push(busybox_rootfs(&mut lab));
        if std::env::var("HUSK_TEST_DEBIAN").is_ok_and(|v| v == "1") && require("mmdebstrap") {
            refs.push(debian_rootfs(&mut lab));
        }
    }
    for r in &refs {
        let (code, v) = lab.doctor(r, false, &[]);
        assert_eq!(code, 0, "{r}: {:#}", v["blocking"]);
    }
    if require("podman") {
        let (code, v) = lab.doctor(&refs[0], true, &[]);
        assert_eq!(code, 0, "{v:#}");
        assert_eq!(v["run"]["explanation"]["started"], true);
    }
}

/// A busybox rootfs (static busybox and its applet links) imported into podman.
fn busybox_rootfs(lab: &mut Lab) -> String {
    let root = lab.path("busybox-root");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in ["sh", "ls", "cat", "echo"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    import(lab, "busybox", &root, "[\"/bin/sh\"]")
}

/// A Debian bookworm minbase rootfs made by mmdebstrap, imported into podman.
fn debian_rootfs(lab: &mut Lab) -> String {
    let tar = lab.path("debian.tar");
    run(Command::new("mmdebstrap")
        .args(["--variant=minbase", "--mode=root", "bookworm"])
        .arg(&tar));
    import_tar(lab, "debian", &tar, "[\"/bin/bash\"]")
}

fn import(lab: &mut Lab, name: &str, root: &Path, cmd: &str) -> String {
    let tar = lab.path(&format!("{name}.tar"));
    run(Command::new("tar")
        .arg("-C")
        .arg(root)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    import_tar(lab, name, &tar, cmd)
}

fn import_tar(lab: &mut Lab, name: &str, tar: &Path, cmd: &str) -> String {
    let tag = format!("localhost/{}-{name}:1", lab.prefix);
    let _storage = podman_storage();
    run(podman()
        .args(["import", "--change", &format!("CMD {cmd}"), "-q"])
        .arg(tar)
        .arg(&tag));
    lab.images.push(tag.clone());
    format!("podman:{tag}")
}

fn borrow<'a>(v: &'a [(&'static str, Vec<u8>, u32)]) -> Vec<(&'static str, &'a [u8], u32)> {
    v.iter().map(|(n, b, m)| (*n, b.as_slice(), *m)).collect()
}
