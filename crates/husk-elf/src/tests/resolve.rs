//! The resolver on a fake Debian-12-like host (merged /usr, multiarch, ld.so.cache).

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::testing::ElfBuilder;
use crate::{Arch, ElfError, FakeFs, FoundVia, ResolvedLib, Resolver, build_new_cache};

const INTERP: &str = "/lib64/ld-linux-x86-64.so.2";
const MA: &str = "/usr/lib/x86_64-linux-gnu";

fn exe() -> ElfBuilder {
    ElfBuilder::x86_64().e_type(3).interp(INTERP)
}

fn lib(soname: &str) -> ElfBuilder {
    ElfBuilder::x86_64().soname(soname)
}

/// Debian 12 shape: /lib -> usr/lib, /lib64 -> usr/lib64, libc through the cache.
fn host() -> FakeFs {
    let mut fs = FakeFs::new();
    fs.add_symlink("/lib", "usr/lib")
        .add_symlink("/lib64", "usr/lib64")
        .add_symlink("/bin", "usr/bin")
        .add_file(
            format!("{MA}/ld-linux-x86-64.so.2"),
            lib("ld-linux-x86-64.so.2").build(),
        )
        .add_symlink(
            "/usr/lib64/ld-linux-x86-64.so.2",
            "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        )
        .add_file(
            format!("{MA}/libc.so.6"),
            lib("libc.so.6").needed("ld-linux-x86-64.so.2").build(),
        )
        .add_file(
            "/etc/ld.so.cache",
            build_new_cache(&[
                ("libc.so.6", 0x0303, "/lib/x86_64-linux-gnu/libc.so.6"),
                ("libc.so.6", 0x0003, "/lib/i386-linux-gnu/libc.so.6"),
                (
                    "ld-linux-x86-64.so.2",
                    0x0303,
                    "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                ),
            ]),
        );
    fs
}

fn closure(fs: &FakeFs, roots: &[&str]) -> Result<crate::Closure, ElfError> {
    let roots: Vec<PathBuf> = roots.iter().map(PathBuf::from).collect();
    Resolver::new(fs).closure(&roots)
}

fn paths(libs: &[ResolvedLib]) -> Vec<&str> {
    libs.iter().map(|l| l.path.to_str().unwrap()).collect()
}

#[test]
fn cache_hit_and_interpreter_not_duplicated() {
    let mut fs = host();
    fs.add_file("/usr/bin/app", exe().needed("libc.so.6").build());
    let c = closure(&fs, &["/bin/app"]).unwrap();
    assert_eq!(c.arch, Arch::Amd64);
    assert_eq!(c.interpreter, Some(PathBuf::from(INTERP)));
    // libc's DT_NEEDED ld-linux-x86-64.so.2 matches the interpreter's soname, as in ld.so.
    assert_eq!(
        c.libraries,
        vec![ResolvedLib {
            name: "libc.so.6".into(),
            path: "/lib/x86_64-linux-gnu/libc.so.6".into(),
            needed_by: "/bin/app".into(),
            found_via: FoundVia::Cache,
        }]
    );
}

#[test]
fn origin_runpath_then_default_dirs() {
    let mut fs = host();
    fs.add_file(
        "/opt/app/bin/app",
        exe()
            .needed("libfoo.so.1")
            .needed("libc.so.6")
            .runpath("${ORIGIN}/../lib")
            .build(),
    )
    .add_file(
        "/opt/app/lib/libfoo.so.1",
        lib("libfoo.so.1").needed("libbar.so").build(),
    )
    .add_file(format!("{MA}/libbar.so"), lib("libbar.so").build())
    // the executable is reached through a symlink: $ORIGIN is its canonical directory
    .add_symlink("/usr/local/bin/app", "/opt/app/bin/app");
    let c = closure(&fs, &["/usr/local/bin/app"]).unwrap();
    assert_eq!(
        paths(&c.libraries),
        [
            "/lib/x86_64-linux-gnu/libbar.so",
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/opt/app/bin/../lib/libfoo.so.1",
        ]
    );
    let bar = &c.libraries[0];
    assert_eq!(bar.needed_by, Path::new("/opt/app/bin/../lib/libfoo.so.1"));
    // How each was found: libfoo through $ORIGIN, libbar not in the cache but in a default
    // directory, libc through the cache.
    assert_eq!(c.libraries[2].found_via, FoundVia::Runpath { origin: true });
    assert!(c.libraries[2].found_via.origin_relative());
    assert_eq!(c.libraries[0].found_via, FoundVia::Default);
    assert_eq!(c.libraries[1].found_via, FoundVia::Cache);
    assert!(!c.libraries[1].found_via.origin_relative());
}

#[test]
fn rpath_is_inherited_runpath_is_not() {
    let mut fs = host();
    fs.add_file("/opt/r/liba.so", lib("liba.so").needed("libb.so").build())
        .add_file("/opt/r/libb.so", lib("libb.so").build())
        .add_file(
            "/app-rpath",
            exe().needed("liba.so").rpath("/opt/r").build(),
        )
        .add_file(
            "/app-runpath",
            exe().needed("liba.so").runpath("/opt/r").build(),
        )
        // RUNPATH present: RPATH ignored even for the object itself
        .add_file(
            "/app-both",
            exe()
                .needed("liba.so")
                .rpath("/opt/r")
                .runpath("/nowhere")
                .build(),
        );
    let c = closure(&fs, &["/app-rpath"]).unwrap();
    assert_eq!(paths(&c.libraries), ["/opt/r/liba.so", "/opt/r/libb.so"]);

    let err = closure(&fs, &["/app-runpath"]).unwrap_err();
    let ElfError::LibraryNotFound {
        name,
        needed_by,
        searched,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(name, "libb.so");
    assert_eq!(needed_by, Path::new("/opt/r/liba.so"));
    assert!(!searched.contains(&PathBuf::from("/opt/r/libb.so")));
    assert!(searched.contains(&PathBuf::from("/lib/x86_64-linux-gnu/libb.so")));
    let msg = err.to_string();
    assert!(
        msg.contains("libb.so") && msg.contains("/opt/r/liba.so"),
        "{msg}"
    );

    let err = closure(&fs, &["/app-both"]).unwrap_err();
    assert!(matches!(err, ElfError::LibraryNotFound { ref name, .. } if name == "liba.so"));
}

#[test]
fn requester_runpath_stops_the_rpath_chain() {
    let mut fs = host();
    fs.add_file(
        "/opt/r/liba.so",
        lib("liba.so").needed("libb.so").runpath("/x").build(),
    )
    .add_file("/opt/r/libb.so", lib("libb.so").build())
    .add_file("/app", exe().needed("liba.so").rpath("/opt/r").build());
    let err = closure(&fs, &["/app"]).unwrap_err();
    assert!(matches!(err, ElfError::LibraryNotFound { ref name, .. } if name == "libb.so"));
}

#[test]
fn wrong_arch_candidate_is_skipped_then_reported() {
    let mut fs = host();
    fs.add_file(
        "/opt/r/libz.so.1",
        ElfBuilder::aarch64().soname("libz.so.1").build(),
    )
    .add_file(format!("{MA}/libz.so.1"), ElfBuilder::i386().build())
    .add_file("/app", exe().needed("libz.so.1").runpath("/opt/r").build());
    let err = closure(&fs, &["/app"]).unwrap_err();
    let ElfError::LibraryNotFound { wrong_arch, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(
        wrong_arch,
        &[
            PathBuf::from("/opt/r/libz.so.1"),
            // merged /usr: ld.so tries both spellings of the same directory
            PathBuf::from("/lib/x86_64-linux-gnu/libz.so.1"),
            PathBuf::from("/usr/lib/x86_64-linux-gnu/libz.so.1"),
        ]
    );
    assert!(
        err.to_string()
            .contains("wrong-architecture candidates: /opt/r/libz.so.1")
    );

    // with a right one later in the search order, the wrong one is just skipped
    fs.add_file("/usr/lib64/libz.so.1", lib("libz.so.1").build());
    let c = closure(&fs, &["/app"]).unwrap();
    assert!(paths(&c.libraries).contains(&"/lib64/libz.so.1"));
}

#[test]
fn cycles_terminate_and_dedup() {
    let mut fs = host();
    fs.add_file(
        "/l/liba.so",
        lib("liba.so").needed("libb.so").runpath("/l").build(),
    )
    .add_file(
        "/l/libb.so",
        lib("libb.so").needed("liba.so").runpath("/l").build(),
    )
    .add_file(
        "/l/libself.so",
        lib("libself.so").needed("libself.so").build(),
    )
    .add_file(
        "/app",
        exe()
            .needed("liba.so")
            .needed("libb.so")
            .needed("libself.so")
            .runpath("/l")
            .build(),
    );
    let c = closure(&fs, &["/app"]).unwrap();
    assert_eq!(
        paths(&c.libraries),
        ["/l/liba.so", "/l/libb.so", "/l/libself.so"]
    );
}

#[test]
fn interpreter_missing_or_wrong_arch() {
    let mut fs = host();
    fs.add_file(
        "/app",
        ElfBuilder::x86_64().interp("/lib/ld-nope.so").build(),
    );
    let err = closure(&fs, &["/app"]).unwrap_err();
    assert!(matches!(err, ElfError::InterpreterNotFound { .. }), "{err}");
    assert!(err.to_string().contains("/lib/ld-nope.so"));
    fs.add_file("/lib/ld-arm.so", ElfBuilder::aarch64().build())
        .add_file(
            "/app2",
            ElfBuilder::x86_64().interp("/lib/ld-arm.so").build(),
        );
    assert!(matches!(
        closure(&fs, &["/app2"]),
        Err(ElfError::InterpreterNotFound { .. })
    ));
}

#[test]
fn roots_must_be_elf_of_one_arch() {
    let mut fs = host();
    fs.add_file("/script", b"#!/bin/sh\necho hi\n".to_vec())
        .add_file("/app", exe().needed("libc.so.6").build())
        .add_file("/armapp", ElfBuilder::aarch64().build());
    assert!(matches!(
        closure(&fs, &["/script"]),
        Err(ElfError::NotElf { .. })
    ));
    assert!(matches!(
        closure(&fs, &["/missing"]),
        Err(ElfError::Io { .. })
    ));
    assert!(matches!(closure(&fs, &[]), Err(ElfError::NoRoots)));
    let err = closure(&fs, &["/app", "/armapp"]).unwrap_err();
    assert!(
        matches!(
            err,
            ElfError::WrongArch {
                found: Arch::Arm64,
                expected: Arch::Amd64,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn static_root_has_empty_closure() {
    let mut fs = host();
    fs.add_file(
        "/static",
        ElfBuilder::x86_64().e_type(2).no_dynamic().build(),
    );
    let c = closure(&fs, &["/static"]).unwrap();
    assert_eq!((c.interpreter, c.libraries.len()), (None, 0));
}

#[test]
fn non_elf_candidate_is_fatal_like_ld_so() {
    let mut fs = host();
    fs.add_file(
        format!("{MA}/libscript.so"),
        b"/* GNU ld script */".to_vec(),
    )
    .add_file("/app", exe().needed("libscript.so").build());
    assert!(matches!(
        closure(&fs, &["/app"]),
        Err(ElfError::NotElf { .. })
    ));
}

#[test]
fn symlink_loop_candidate_is_not_found_and_loop_root_is_io() {
    let mut fs = host();
    fs.add_symlink(format!("{MA}/libloop.so"), "libloop.so")
        .add_symlink("/loopy", "/loopy")
        .add_file("/app", exe().needed("libloop.so").build());
    assert!(matches!(
        closure(&fs, &["/app"]),
        Err(ElfError::LibraryNotFound { .. })
    ));
    assert!(matches!(
        closure(&fs, &["/loopy"]),
        Err(ElfError::Io { .. })
    ));
}

#[test]
fn dst_lib_platform_and_slash_names() {
    let mut fs = host();
    fs.add_file("/opt/lib/x86_64-linux-gnu/libq.so", lib("libq.so").build())
        .add_file("/opt/x86_64/libp.so", lib("libp.so").build())
        .add_file("/abs/libabs.so", lib("libabs.so").build())
        .add_file("/d/librel.so", lib("librel.so").build())
        .add_file(
            "/d/app",
            exe()
                .needed("libq.so")
                .needed("libp.so")
                .needed("/abs/libabs.so")
                .needed("$ORIGIN/librel.so")
                .runpath("/opt/$LIB:/opt/$PLATFORM:/unknown/$FOO")
                .build(),
        );
    let c = closure(&fs, &["/d/app"]).unwrap();
    assert_eq!(
        paths(&c.libraries),
        [
            "/abs/libabs.so",
            "/d/librel.so",
            "/opt/lib/x86_64-linux-gnu/libq.so",
            "/opt/x86_64/libp.so",
        ]
    );
}

#[test]
fn nodeflib_skips_cache_and_default_dirs() {
    let mut fs = host();
    fs.add_file("/app", exe().needed("libc.so.6").flags_1(0x800).build());
    assert!(matches!(
        closure(&fs, &["/app"]),
        Err(ElfError::LibraryNotFound { .. })
    ));
}

#[test]
fn conf_dirs_stand_in_for_a_missing_cache() {
    let mut fs = host();
    fs.add_file("/etc/ld.so.cache", b"corrupt".to_vec())
        .add_file("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n")
        .add_file("/etc/ld.so.conf.d/x.conf", "/opt/conf\n")
        .add_file("/opt/conf/libk.so", lib("libk.so").build())
        .add_file("/app", exe().needed("libk.so").needed("libc.so.6").build());
    let r = Resolver::new(&fs);
    assert!(r.ld_cache().is_none());
    assert_eq!(r.conf_dirs(), [PathBuf::from("/opt/conf")]);
    let c = r.closure(&[PathBuf::from("/app")]).unwrap();
    // without the cache, libc comes from the first default dir
    assert_eq!(
        paths(&c.libraries),
        ["/lib/x86_64-linux-gnu/libc.so.6", "/opt/conf/libk.so"]
    );
}

#[test]
fn nss_modules_follow_libc() {
    let mut fs = host();
    fs.add_file(
        format!("{MA}/libnss_files.so.2"),
        lib("libnss_files.so.2").needed("libc.so.6").build(),
    )
    .add_file(
        format!("{MA}/libnss_extra.so.2"),
        lib("libnss_extra.so.2").needed("libhelper.so.1").build(),
    )
    .add_file(
        format!("{MA}/libhelper.so.1"),
        lib("libhelper.so.1").build(),
    )
    .add_file("/app", exe().needed("libc.so.6").build())
    .add_file("/static", ElfBuilder::x86_64().no_dynamic().build());
    let r = Resolver::new(&fs);
    let c = r.closure(&[PathBuf::from("/app")]).unwrap();
    let nss = r.nss_modules(&c, &["files", "dns", "extra"]).unwrap();
    assert_eq!(
        paths(&nss),
        [
            "/lib/x86_64-linux-gnu/libhelper.so.1",
            "/lib/x86_64-linux-gnu/libnss_extra.so.2",
            "/lib/x86_64-linux-gnu/libnss_files.so.2",
        ]
    );
    assert_eq!(
        nss[2].needed_by,
        Path::new("/lib/x86_64-linux-gnu/libc.so.6")
    );
    assert_eq!(
        nss[0].needed_by,
        Path::new("/lib/x86_64-linux-gnu/libnss_extra.so.2")
    );

    let s = r.closure(&[PathBuf::from("/static")]).unwrap();
    assert!(r.nss_modules(&s, &["files"]).unwrap().is_empty());
    assert!(matches!(
        r.nss_modules(&c, &["../evil"]),
        Err(ElfError::InvalidNssService { .. })
    ));
}

#[test]
fn musl_search_and_builtin_names() {
    let mut fs = FakeFs::new();
    fs.add_file(
        "/lib/ld-musl-x86_64.so.1",
        lib("libc.musl-x86_64.so.1").build(),
    )
    .add_symlink("/lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1")
    .add_file("/usr/lib/libz.so.1", lib("libz.so.1").build())
    .add_file(
        "/app",
        ElfBuilder::x86_64()
            .interp("/lib/ld-musl-x86_64.so.1")
            .needed("libz.so.1")
            .needed("libc.musl-x86_64.so.1")
            .build(),
    );
    let c = closure(&fs, &["/app"]).unwrap();
    assert_eq!(
        c.interpreter,
        Some(PathBuf::from("/lib/ld-musl-x86_64.so.1"))
    );
    assert_eq!(paths(&c.libraries), ["/usr/lib/libz.so.1"]);
}

#[test]
fn i386_uses_its_cache_flags_and_dirs() {
    let mut fs = host();
    fs.add_file(
        "/lib/i386-linux-gnu/libc.so.6",
        ElfBuilder::i386().soname("libc.so.6").build(),
    )
    .add_file(
        "/lib/ld-linux.so.2",
        ElfBuilder::i386().soname("ld-linux.so.2").build(),
    )
    .add_file(
        "/app32",
        ElfBuilder::i386()
            .interp("/lib/ld-linux.so.2")
            .needed("libc.so.6")
            .build(),
    );
    let c = closure(&fs, &["/app32"]).unwrap();
    assert_eq!(c.arch, Arch::I386);
    assert_eq!(paths(&c.libraries), ["/lib/i386-linux-gnu/libc.so.6"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn hostile_cache_and_conf_never_panic(
        cache in proptest::collection::vec(any::<u8>(), 0..300),
        conf in "[ -~\n]{0,200}",
        new_magic in any::<bool>(),
    ) {
        let mut fs = host();
        let mut bytes = if new_magic { b"glibc-ld.so.cache1.1".to_vec() } else { Vec::new() };
        bytes.extend(cache);
        fs.add_file("/etc/ld.so.cache", bytes)
            .add_file("/etc/ld.so.conf", conf)
            .add_file("/app", exe().needed("libc.so.6").build());
        let r = Resolver::new(&fs);
        let _ = r.closure(&[PathBuf::from("/app")]);
    }
}

#[test]
fn extra_root_uses_main_executable_rpath() {
    let mut fs = host();
    fs.add_file("/opt/r/libhelper.so", lib("libhelper.so").build())
        .add_file(
            "/plugins/libplug.so",
            lib("libplug.so").needed("libhelper.so").build(),
        )
        .add_file("/app", exe().needed("libc.so.6").rpath("/opt/r").build());
    let c = closure(&fs, &["/app", "/plugins/libplug.so"]).unwrap();
    let helper = c
        .libraries
        .iter()
        .find(|l| l.name == "libhelper.so")
        .unwrap();
    assert_eq!(helper.path, Path::new("/opt/r/libhelper.so"));
    assert_eq!(helper.needed_by, Path::new("/plugins/libplug.so"));
    // roots never show up as libraries, even when another root needs them
    fs.add_file(
        "/app2",
        exe().needed("libplug.so").rpath("/plugins:/opt/r").build(),
    );
    let c = closure(&fs, &["/app2", "/plugins/libplug.so"]).unwrap();
    assert!(!paths(&c.libraries).contains(&"/plugins/libplug.so"));
}

#[test]
fn second_interpreter_is_shipped_as_a_library() {
    let mut fs = host();
    fs.add_file(
        "/lib/ld-musl-x86_64.so.1",
        lib("libc.musl-x86_64.so.1").build(),
    )
    .add_file("/glibc-app", exe().needed("libc.so.6").build())
    .add_file(
        "/musl-app",
        ElfBuilder::x86_64()
            .interp("/lib/ld-musl-x86_64.so.1")
            .build(),
    );
    let c = closure(&fs, &["/glibc-app", "/musl-app"]).unwrap();
    assert_eq!(c.interpreter, Some(PathBuf::from(INTERP)));
    assert!(paths(&c.libraries).contains(&"/lib/ld-musl-x86_64.so.1"));
}

#[test]
fn resolver_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Resolver<'static>>();
    check::<crate::Closure>();
    check::<ElfError>();
}

#[test]
fn error_messages_are_lowercase_and_name_the_object() {
    let mut fs = host();
    fs.add_file("/app", exe().needed("libmissing.so.3").build());
    let msg = closure(&fs, &["/app"]).unwrap_err().to_string();
    assert!(
        msg.starts_with("library libmissing.so.3 needed by /app"),
        "{msg}"
    );
    assert!(!msg.ends_with('.'));
}
