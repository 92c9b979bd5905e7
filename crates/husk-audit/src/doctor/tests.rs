//! The doctor on facts built by hand: every cause lands in the right group with its fix,
//! ARGS replace Cmd, and a runtime's message maps back to the static cause.

use super::*;
use crate::testing::{Fake, elf};

const LD: &str = "/lib64/ld-linux-x86-64.so.2";

fn working() -> Fake {
    Fake::new()
        .base()
        .exe("/app", &elf(62, Some(LD), &["libc.so.6"], b""))
        .file(LD, &elf(62, None, &[], b""))
        .file("/lib/x86_64-linux-gnu/libc.so.6", &elf(62, None, &[], b""))
        .entrypoint(&["/app"])
}

#[test]
fn a_working_image_has_nothing_blocking() {
    let d = diagnose(&working().facts());
    assert!(!d.blocks(), "{:?}", d.blocking);
    assert!(d.may_fail.is_empty(), "{:?}", d.may_fail);
    let t = text(&d);
    assert!(t.contains("nothing stops this image from starting"), "{t}");
    assert!(
        t.contains("its loader /lib64/ld-linux-x86-64.so.2 is in the image"),
        "{t}"
    );
    assert!(t.contains("1 shared libraries found"), "{t}");
}

#[test]
fn each_cause_is_blocking_with_its_rule_and_fix() {
    let cases: Vec<(Fake, &str, &str)> = vec![
        (
            Fake::new().base(),
            "HUSK-I004",
            "neither Entrypoint nor Cmd",
        ),
        (
            working().entrypoint(&["/nope"]),
            "HUSK-I004",
            "does not exist",
        ),
        (
            working().file_mode("/app", &elf(62, None, &[], b""), 0o700),
            "HUSK-I004",
            "not executable by user",
        ),
        (
            working().exe("/app", &elf(183, None, &[], b"")),
            "HUSK-I005",
            "for arm64",
        ),
        (
            working().exe("/app", &elf(62, Some("/lib/ld-musl-x86_64.so.1"), &[], b"")),
            "HUSK-I006",
            "linked against musl but the image has glibc's loader",
        ),
        (
            working().user("app"),
            "HUSK-I003",
            "not in the image's /etc/passwd",
        ),
        (
            working().entrypoint(&["/bin/sh", "-c", "/app"]),
            "HUSK-I007",
            "shell form",
        ),
        (
            working().file("/srv", b"").workdir("/srv"),
            "HUSK-I024",
            "not a directory",
        ),
        (
            working()
                .exe("/s0", b"#!/s1\n")
                .exe("/s1", b"#!/missing\n")
                .entrypoint(&["/s0"]),
            "HUSK-I007",
            "/s0 -> /s1 -> /missing",
        ),
        (
            working().exe("/s0", b"#!/s0\n").entrypoint(&["/s0"]),
            "HUSK-I007",
            "too many levels of symbolic links",
        ),
        (
            working().exe("/app", b"\x7fELF garbage"),
            "HUSK-I004",
            "exec format error",
        ),
    ];
    for (fake, rule, needle) in cases {
        let d = diagnose(&fake.facts());
        let p = d
            .blocking
            .iter()
            .find(|p| p.rule == rule)
            .unwrap_or_else(|| panic!("{rule} not blocking: {:?}", d.blocking));
        assert!(p.cause.contains(needle), "{rule}: {}", p.cause);
        assert!(!p.fix.is_empty());
        assert!(text(&d).contains("will not start:"));
    }
}

#[test]
fn a_library_for_another_architecture_is_named() {
    let f = working()
        .file("/lib/x86_64-linux-gnu/libc.so.6", &elf(183, None, &[], b""))
        .facts();
    let d = diagnose(&f);
    let p = d.blocking.iter().find(|p| p.rule == "HUSK-I006").unwrap();
    assert!(
        p.cause.contains("libc.so.6") && p.cause.contains("arm64"),
        "{}",
        p.cause
    );
}

#[test]
fn ld_library_path_and_the_image_cache_are_searched() {
    let f = working()
        .exe("/app", &elf(62, Some(LD), &["libx.so.1"], b""))
        .file("/opt/x/libx.so.1", &elf(62, None, &[], b""))
        .env("LD_LIBRARY_PATH=/opt/x")
        .facts();
    assert!(!diagnose(&f).blocks());
    let cache = husk_elf::build_new_cache(&[("libx.so.1", 0x0303, "/opt/y/libx.so.1")]);
    let f = working()
        .exe("/app", &elf(62, Some(LD), &["libx.so.1"], b""))
        .file("/opt/y/libx.so.1", &elf(62, None, &[], b""))
        .file("/etc/ld.so.cache", &cache)
        .facts();
    assert!(!diagnose(&f).blocks(), "{:?}", diagnose(&f).blocking);
}

#[test]
fn a_broken_interpreter_of_a_script_is_followed() {
    let f = working()
        .exe("/run.sh", b"#!/usr/bin/env tool\n")
        .exe("/usr/bin/env", &elf(62, None, &[], b""))
        .exe("/usr/bin/tool", &elf(62, Some(LD), &["libgone.so"], b""))
        .entrypoint(&["/run.sh"])
        .facts();
    let d = diagnose(&f);
    assert!(
        d.blocking
            .iter()
            .any(|p| p.rule == "HUSK-I006" && p.cause.contains("libgone.so")),
        "{:?}",
        d.blocking
    );
    // A shebang loop ends, and blocks.
    let f = working()
        .exe("/a", b"#!/b\n")
        .exe("/b", b"#!/a\n")
        .entrypoint(&["/a"])
        .facts();
    assert!(diagnose(&f).blocks());
}

#[test]
fn a_program_cut_in_a_segment_may_fail() {
    let full = elf(62, Some(LD), &["libc.so.6"], b"");
    let d = diagnose(&working().exe("/app", &full[..full.len() - 8]).facts());
    assert!(!d.blocks(), "{:?}", d.blocking);
    let p = d.may_fail.iter().find(|p| p.rule == "HUSK-I027").unwrap();
    assert!(p.cause.contains("cut short"), "{}", p.cause);
    assert!(text(&d).contains("may fail:"));
}

#[test]
fn chains_that_resolve_are_fine() {
    let f = working()
        .exe("/s0", b"#!/s1\n")
        .exe("/s1", b"#!/app\n")
        .entrypoint(&["/s0"])
        .facts();
    let d = diagnose(&f);
    assert!(!d.blocks(), "{:?}", d.blocking);
    assert!(d.may_fail.is_empty(), "{:?}", d.may_fail);
    assert!(
        text(&d).contains("the script runs through /app"),
        "{}",
        text(&d)
    );
}

#[test]
fn args_replace_cmd_and_keep_the_entrypoint() {
    let mut f = working().cmd(&["--serve"]).facts();
    with_args(&mut f, &["--check".to_owned()]);
    assert_eq!(f.argv(), ["/app", "--check"]);
    with_args(&mut f, &[]);
    assert_eq!(f.argv(), ["/app", "--check"]);
}

#[test]
fn runtime_messages_map_to_static_causes() {
    let msgs = [
        (
            "Error: crun: executable file `/app` not found: No such file or directory: OCI runtime attempted to invoke a command that was not found",
            RunFailure::NotFound,
        ),
        (
            "{\"msg\":\"exec container process `/app`: Exec format error\"}",
            RunFailure::ExecFormat,
        ),
        (
            "Error: unable to find user app: no matching entries in passwd file",
            RunFailure::UnknownUser,
        ),
        (
            "/app: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.99' not found (required by /app)",
            RunFailure::SymbolVersion,
        ),
        (
            "/app: error while loading shared libraries: libz.so.1: cannot open shared object file",
            RunFailure::MissingLibrary,
        ),
        (
            "Could not find platform independent libraries <prefix>",
            RunFailure::RuntimeStdlib,
        ),
        (
            "chdir to cwd (\"/srv\") set in config.json failed: not a directory",
            RunFailure::Workdir,
        ),
        ("exec /app: permission denied", RunFailure::PermissionDenied),
        (
            "Error: crun: exec `/app`: Too many levels of symbolic links",
            RunFailure::Loop,
        ),
        (
            "Error: workdir \"/srv\" exists on container 0a1b, but is not a directory",
            RunFailure::Workdir,
        ),
    ];
    for (m, want) in msgs {
        assert_eq!(classify(m).map(|c| c.0), Some(want), "{m}");
    }
    assert_eq!(classify("all good"), None);
    assert_eq!(classify(""), None);
    let d = diagnose(&working().user("app").facts());
    let e = explain(
        &d,
        &RunOutcome {
            exit_code: Some(126),
            timed_out: false,
            stderr: "Error: unable to find user app: no matching entries in passwd file\n".into(),
        },
    );
    assert!(!e.started);
    assert_eq!(e.causes.len(), 1);
    assert_eq!(e.causes[0].rule, "HUSK-I003");
}

#[test]
fn hostile_configs_do_not_panic() {
    for argv in [
        vec![""],
        vec!["/"],
        vec!["../../etc/passwd"],
        vec!["\0"],
        vec!["a/../../b"],
    ] {
        let d = diagnose(&working().entrypoint(&argv).facts());
        assert!(d.blocks(), "{argv:?}");
    }
    let _ = diagnose(
        &working()
            .user(":::")
            .workdir("relative")
            .env("TZ=../../x")
            .facts(),
    );
    let _ = classify("\u{fffd}permission denied\u{fffd}");
}
