//! Real-host tests: the resolver with `RealFs` against what the host's own loader does
//! (ldd and actually running gcc-built programs are the oracle). Skipped, with a note,
//! when the needed tool is absent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use husk_elf::{ElfError, HostEntry, RealFs, Resolver, materialize};

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn system_binary_has_libc_and_interpreter() {
    let Some(bin) = ["/usr/bin/env", "/bin/ls"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
    else {
        eprintln!("skipped: no /usr/bin/env or /bin/ls");
        return;
    };
    let fs = RealFs;
    let r = Resolver::new(&fs);
    let c = r.closure(&[bin.to_path_buf()]).unwrap();
    let interp = c.interpreter.clone().expect("dynamic system binary");
    assert!(c.libraries.iter().any(|l| l.name == "libc.so.6"), "{c:#?}");
    assert!(!c.libraries.iter().any(|l| l.path == interp));
    // the interpreter materialises to symlinks ending in a regular file
    let entries = materialize(&fs, &interp).unwrap();
    assert!(
        matches!(entries.last(), Some(HostEntry::File { .. })),
        "{entries:?}"
    );
    for l in &c.libraries {
        let e = materialize(&fs, &l.path).unwrap();
        assert!(matches!(e.last(), Some(HostEntry::File { .. })));
    }
    // glibc NSS: whatever exists on the host is found next to libc
    let nss = r.nss_modules(&c, &["files", "dns"]).unwrap();
    for m in &nss {
        assert!(m.path.exists(), "{m:?}");
    }
}

/// `ldd` output as (name, path) pairs, interpreter and vdso left out.
fn ldd(bin: &Path) -> Option<BTreeSet<(String, PathBuf)>> {
    let out = Command::new("ldd").arg(bin).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let Some((name, rest)) = line.trim().split_once(" => ") else {
            continue;
        };
        let path = rest.split(" (").next()?.trim();
        if path.starts_with('/') {
            set.insert((name.to_owned(), PathBuf::from(path)));
        }
    }
    Some(set)
}

#[test]
fn matches_ldd_on_system_binaries() {
    if !have("ldd") {
        eprintln!("skipped: ldd not installed");
        return;
    }
    let fs = RealFs;
    let r = Resolver::new(&fs);
    let mut checked = 0;
    for bin in [
        "/usr/bin/env",
        "/bin/ls",
        "/usr/bin/gcc",
        "/usr/bin/python3",
        "/usr/bin/git",
        "/usr/bin/curl",
        "/usr/bin/ssh",
        "/usr/bin/perl",
    ] {
        let bin = Path::new(bin);
        if !bin.exists() {
            continue;
        }
        let Some(want) = ldd(bin) else { continue };
        let c = r.closure(&[bin.to_path_buf()]).unwrap();
        let got: BTreeSet<(String, PathBuf)> = c
            .libraries
            .iter()
            .map(|l| (l.name.clone(), l.path.clone()))
            .collect();
        assert_eq!(got, want, "{}", bin.display());
        checked += 1;
    }
    assert!(checked > 0, "no system binary to compare");
}

fn gcc(args: &[&str], dir: &Path) {
    let out = Command::new("gcc")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gcc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gcc_origin_runpath_and_inherited_rpath() {
    if !have("gcc") {
        eprintln!("skipped: gcc not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("lib")).unwrap();
    std::fs::write(dir.join("b.c"), "int b(void) { return 2; }\n").unwrap();
    std::fs::write(
        dir.join("a.c"),
        "int b(void);\nint a(void) { return b() + 1; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.c"),
        "int a(void);\nint main(void) { return a() == 3 ? 0 : 1; }\n",
    )
    .unwrap();
    gcc(&["-shared", "-fPIC", "-o", "lib/libhuskb.so", "b.c"], dir);
    gcc(
        &[
            "-shared",
            "-fPIC",
            "-o",
            "lib/libhuska.so",
            "a.c",
            "-Llib",
            "-lhuskb",
        ],
        dir,
    );
    // new dtags: DT_RUNPATH, not inherited by liba, so libb cannot be found
    gcc(
        &[
            "-o",
            "app-runpath",
            "main.c",
            "-Llib",
            "-lhuska",
            "-Wl,-rpath-link,lib",
            "-Wl,--enable-new-dtags",
            "-Wl,-rpath,$ORIGIN/lib",
        ],
        dir,
    );
    // old dtags: DT_RPATH, inherited, so libb is found through the executable's RPATH
    gcc(
        &[
            "-o",
            "app-rpath",
            "main.c",
            "-Llib",
            "-lhuska",
            "-Wl,-rpath-link,lib",
            "-Wl,--disable-new-dtags",
            "-Wl,-rpath,$ORIGIN/lib",
        ],
        dir,
    );
    // a direct dependency only: RUNPATH $ORIGIN/lib is enough
    std::fs::write(
        dir.join("one.c"),
        "int b(void);\nint main(void) { return b() == 2 ? 0 : 1; }\n",
    )
    .unwrap();
    gcc(
        &[
            "-o",
            "app-one",
            "one.c",
            "-Llib",
            "-lhuskb",
            "-Wl,--enable-new-dtags",
            "-Wl,-rpath,$ORIGIN/lib",
        ],
        dir,
    );

    let canon = dir.canonicalize().unwrap();
    let fs = RealFs;
    let r = Resolver::new(&fs);

    let c = r.closure(&[dir.join("app-one")]).unwrap();
    let b = c
        .libraries
        .iter()
        .find(|l| l.name == "libhuskb.so")
        .unwrap();
    assert_eq!(b.path, canon.join("lib/libhuskb.so"));
    assert!(c.libraries.iter().any(|l| l.name == "libc.so.6"));
    assert!(
        Command::new(dir.join("app-one"))
            .status()
            .unwrap()
            .success()
    );

    let c = r.closure(&[dir.join("app-rpath")]).unwrap();
    let names: BTreeSet<&str> = c.libraries.iter().map(|l| l.name.as_str()).collect();
    assert!(
        names.contains("libhuska.so") && names.contains("libhuskb.so"),
        "{c:#?}"
    );
    assert!(
        Command::new(dir.join("app-rpath"))
            .status()
            .unwrap()
            .success()
    );

    // the resolver and the real loader agree that this one cannot start
    let err = r.closure(&[dir.join("app-runpath")]).unwrap_err();
    assert!(
        matches!(&err, ElfError::LibraryNotFound { name, .. } if name == "libhuskb.so"),
        "{err}"
    );
    let run = Command::new(dir.join("app-runpath")).output().unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("libhuskb.so"));
}

/// Every dynamic ELF in /usr/bin and /usr/sbin against ldd (slow: run with --ignored).
#[test]
#[ignore = "slow sweep over the whole host; run with --ignored"]
fn matches_ldd_on_all_of_usr_bin() {
    if !have("ldd") {
        return;
    }
    let fs = RealFs;
    let r = Resolver::new(&fs);
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for dir in ["/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu"] {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            if !husk_elf::is_elf(&bytes)
                || std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_symlink())
            {
                continue;
            }
            let Some(want) = ldd(&p) else { continue };
            match r.closure(std::slice::from_ref(&p)) {
                Ok(c) => {
                    // A library root has no PT_INTERP; under ldd the running ld.so
                    // satisfies libc's DT_NEEDED on it by soname.
                    let got: BTreeSet<(String, PathBuf)> = c
                        .libraries
                        .iter()
                        .filter(|l| c.interpreter.is_some() || !l.name.starts_with("ld-linux"))
                        .map(|l| (l.name.clone(), l.path.clone()))
                        .collect();
                    if got != want {
                        mismatches.push(format!("{}: got {got:?} want {want:?}", p.display()));
                    }
                }
                Err(e) => mismatches.push(format!("{}: {e}", p.display())),
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked} files");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
