//! Tests of the option declaration: the file schema, the merge (flags over the file, for
//! every option), validation, and where an invalid value came from.

use super::*;

fn env() -> Environment {
    Environment::default()
}

/// Every option set, from one source: a literal that names every field, so a new option
/// must be added here (and then `merge_covers_every_option` checks it merges).
fn every_option(tag: &str, origins: Origins) -> BuildOptions {
    BuildOptions {
        entrypoint: Some(format!("/bin/{tag}").into()),
        dest: Some(format!("/app/{tag}")),
        args: Some(vec![tag.into()]),
        cmd: Some(vec![tag.into()]),
        files: Some(vec![format!("{tag}:/{tag}")]),
        user: Some(if tag == "file" { "1000" } else { "2000" }.into()),
        user_name: Some(tag.into()),
        allow_root: Some(tag == "file"),
        workdir: Some(format!("/{tag}")),
        env: Some(vec![format!("{tag}=1")]),
        labels: Some(vec![format!("{tag}=1")]),
        annotations: Some(vec![format!("{tag}=1")]),
        expose: Some(vec![if tag == "file" { "80" } else { "443" }.into()]),
        stop_signal: Some(if tag == "file" { "INT" } else { "TERM" }.into()),
        healthcheck: Some(vec![tag.into()]),
        trace: Some(tag == "file"),
        trace_runs: Some(vec![format!("--{tag}")]),
        trace_timeout: Some(if tag == "file" { "1s" } else { "2m" }.into()),
        trace_env: Some(vec![format!("{tag}=1")]),
        trace_workdir: Some(format!("/{tag}").into()),
        trace_excludes: Some(vec![format!("/{tag}").into()]),
        trace_includes: Some(vec![format!("/{tag}").into()]),
        trace_allow_failure: Some(tag == "file"),
        trace_report: Some(format!("/{tag}.json").into()),
        check: Some(tag == "file"),
        tags: Some(vec![tag.into()]),
        compression: Some(if tag == "file" { "gzip" } else { "zstd" }.into()),
        ca_certs: Some(CaCerts::File(tag.into())),
        libraries: Some(tag == "file"),
        nss: Some(tag == "file"),
        passwd: Some(tag == "file"),
        tmp: Some(tag == "file"),
        tzdata: Some(tag == "file"),
        package_db: Some(tag == "file"),
        sbom: Some(if tag == "file" { "spdx" } else { "all" }.into()),
        sbom_output: Some(format!("/{tag}/sbom").into()),
        outputs: Some(vec![format!("oci:{tag}")]),
        load: Some(tag == "file"),
        cargo: Some(CargoOptions {
            package: Some(tag.into()),
            ..Default::default()
        }),
        platforms: Some(vec![crate::PlatformSpec {
            platform: format!("linux/{}", if tag == "file" { "arm64" } else { "riscv64" }),
            entrypoint: Some(format!("/{tag}/exe").into()),
            sysroot: None,
        }]),
        output_platform: Some(format!("linux/{tag}")),
        origins,
    }
}

#[test]
fn merge_covers_every_option() {
    let file = every_option("file", Origins::in_file(Path::new("/src/husk.toml"), false));
    let flags = every_option("flags", Origins::default());
    assert_ne!(file, flags);
    // Flags win for every option, and each then names its flag.
    assert_eq!(file.clone().merged(flags.clone()), flags);
    // What the flags leave unset keeps the file's value and the file's name.
    assert_eq!(file.clone().merged(BuildOptions::default()), file);
    assert_eq!(BuildOptions::default().merged(file.clone()), file);
}

#[test]
fn cargo_table_merges_key_by_key() {
    let file = BuildOptions {
        cargo: Some(CargoOptions {
            package: Some("a".into()),
            bin: Some("x".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let flags = BuildOptions {
        cargo: Some(CargoOptions {
            bin: Some("y".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let c = file.merged(flags).cargo.unwrap();
    assert_eq!(
        (c.package.as_deref(), c.bin.as_deref()),
        (Some("a"), Some("y"))
    );
}

#[test]
fn flags_override_file() {
    let file = BuildOptions {
        user: Some("1000".into()),
        tags: Some(vec!["a".into()]),
        ..Default::default()
    };
    let flags = BuildOptions {
        user: Some("2000".into()),
        ..Default::default()
    };
    let m = file.merged(flags);
    assert_eq!(m.user.as_deref(), Some("2000"));
    assert_eq!(m.tags, Some(vec!["a".into()]));
}

#[test]
fn toml_unknown_key_is_named() {
    let err = BuildOptions::from_toml_str("entrypoint = \"x\"\nusr = \"1\"\n").unwrap_err();
    assert!(err.contains("usr"), "{err}");
    let ok = BuildOptions::from_toml_str("user = \"1000:1000\"\nexpose = [\"443/tcp\"]\n").unwrap();
    assert_eq!(ok.user.as_deref(), Some("1000:1000"));
}

#[test]
fn keys_are_the_file_schema() {
    let err = BuildOptions::from_toml_str("nope = 1\n").unwrap_err();
    let listed = BuildOptions::KEYS
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(err.contains(&listed), "{err}\n{listed}");
    assert!(!err.contains("origins"), "{err}");
    // Each key is accepted (with a value of its type).
    let text = "entrypoint = \"x\"\nuser-name = \"a\"\nallow-root = true\nstop-signal = \"TERM\"\nca-certs = \"none\"\n[cargo]\nstatic = true\n";
    let o = BuildOptions::from_toml_str(text).unwrap();
    assert_eq!(o.ca_certs, Some(CaCerts::None));
}

#[test]
fn root_needs_allow_root() {
    let o = BuildOptions {
        entrypoint: Some("x".into()),
        user: Some("0".into()),
        ..Default::default()
    };
    assert!(matches!(
        o.clone().into_request(&env()),
        Err(BuildError::RootUser { .. })
    ));
    let o = BuildOptions {
        allow_root: Some(true),
        ..o
    };
    assert_eq!(o.into_request(&env()).unwrap().config.user.uid, 0);
}

#[test]
fn program_is_a_path_or_a_cargo_build() {
    let path = BuildOptions {
        entrypoint: Some("/bin/x".into()),
        ..Default::default()
    };
    let cargo = BuildOptions {
        cargo: Some(CargoOptions::default()),
        ..Default::default()
    };
    assert!(matches!(
        BuildOptions::default().into_request(&env()),
        Err(BuildError::NoEntrypoint)
    ));
    assert!(matches!(
        path.clone().merged(cargo.clone()).into_request(&env()),
        Err(BuildError::EntrypointAndCargo)
    ));
    let checked = cargo.into_request(&env()).unwrap();
    assert_eq!(
        checked.entrypoint.main,
        Some(Program::Cargo(CargoOptions::default()))
    );
    assert_eq!(checked.dest, None);
    // Once Cargo has built it, it lands under its own name and is tagged with it.
    let req = checked.with_entrypoint("/t/release/demo".into()).unwrap();
    assert_eq!(req.dest.as_str(), "/app/demo");
    assert_eq!(req.tags, ["demo:latest"]);
    let req = path.into_request(&env()).unwrap();
    assert_eq!(req.entrypoint.main, Some(Program::Path("/bin/x".into())));
}

#[test]
fn given_dest_and_tags_are_kept() {
    let o = BuildOptions {
        cargo: Some(CargoOptions::default()),
        dest: Some("/srv/app".into()),
        tags: Some(vec!["a:1".into()]),
        ..Default::default()
    };
    let req = o
        .into_request(&env())
        .unwrap()
        .with_entrypoint("/t/demo".into())
        .unwrap();
    assert_eq!(
        (req.dest.as_str(), req.tags.as_slice()),
        ("/srv/app", &["a:1".to_owned()][..])
    );
}

#[test]
fn user_name_has_its_own_error() {
    let o = BuildOptions {
        entrypoint: Some("x".into()),
        user_name: Some("bad name".into()),
        ..Default::default()
    };
    let e = o.into_request(&env()).unwrap_err();
    assert!(matches!(e, BuildError::BadUserName { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.starts_with("invalid --user-name \"bad name\""), "{msg}");
    assert!(!msg.contains("KEY=VALUE"), "{msg}");
}

#[test]
fn empty_healthcheck_is_refused() {
    for cmd in [vec![], vec![String::new()]] {
        let o = BuildOptions {
            entrypoint: Some("x".into()),
            healthcheck: Some(cmd),
            ..Default::default()
        };
        let e = o.into_request(&env()).unwrap_err();
        assert!(matches!(e, BuildError::EmptyHealthcheck { .. }), "{e:?}");
        assert!(e.to_string().contains("--healthcheck"), "{e}");
    }
}

#[test]
fn errors_name_the_key_and_file_a_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("husk.toml");
    std::fs::write(&path, "entrypoint = \"x\"\nuser = \"www-data\"\n").unwrap();
    let e = BuildOptions::from_toml_file(&path)
        .unwrap()
        .into_request(&env())
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "invalid key user in {} \"www-data\"",
            path.display()
        )),
        "{msg}"
    );
    assert!(!msg.contains("--user"), "{msg}");
    // The same value given as a flag over the file names the flag.
    let flags = BuildOptions {
        user: Some("www-data".into()),
        ..Default::default()
    };
    let e = BuildOptions::from_toml_file(&path)
        .unwrap()
        .merged(flags)
        .into_request(&env())
        .unwrap_err();
    assert!(
        e.to_string().starts_with("invalid --user \"www-data\""),
        "{e}"
    );
    // A bad value from the file that the flags do not override still names the file.
    std::fs::write(&path, "entrypoint = \"x\"\nexpose = [\"0\"]\n").unwrap();
    let flags = BuildOptions {
        user: Some("1000".into()),
        ..Default::default()
    };
    let e = BuildOptions::from_toml_file(&path)
        .unwrap()
        .merged(flags)
        .into_request(&env())
        .unwrap_err();
    assert!(e.to_string().contains("key expose in"), "{e}");
}

#[test]
fn relative_paths_in_a_file_are_taken_from_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("husk.toml");
    std::fs::write(
        &path,
        "entrypoint = \"bin/app\"\nca-certs = \"certs.pem\"\nfiles = [\"a:/a\", \"/abs:/b\"]\n[cargo]\nmanifest-path = \"Cargo.toml\"\n",
    )
    .unwrap();
    let o = BuildOptions::from_toml_file(&path).unwrap();
    let d = dir.path();
    assert_eq!(o.entrypoint, Some(d.join("bin/app")));
    assert_eq!(o.ca_certs, Some(CaCerts::File(d.join("certs.pem"))));
    assert_eq!(
        o.files,
        Some(vec![format!("{}/a:/a", d.display()), "/abs:/b".into()])
    );
    assert_eq!(o.cargo.unwrap().manifest_path, Some(d.join("Cargo.toml")));
    // The words are not paths.
    std::fs::write(&path, "ca-certs = \"none\"\n").unwrap();
    let o = BuildOptions::from_toml_file(&path).unwrap();
    assert_eq!(o.ca_certs, Some(CaCerts::None));
}

#[test]
fn environment_sets_the_epoch() {
    let o = BuildOptions {
        entrypoint: Some("x".into()),
        ..Default::default()
    };
    let e = Environment {
        source_date_epoch: Some("1700000000".into()),
        ..Default::default()
    };
    assert_eq!(
        o.clone().into_request(&e).unwrap().encoding.epoch,
        1_700_000_000
    );
    let e = Environment {
        source_date_epoch: Some("yesterday".into()),
        ..Default::default()
    };
    assert!(matches!(
        o.into_request(&e),
        Err(BuildError::BadEpoch { .. })
    ));
}

#[test]
fn the_demo_husk_toml_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/scratch-demo/husk.toml");
    let checked = BuildOptions::from_toml_file(&path)
        .unwrap()
        .into_request(&env())
        .unwrap();
    let Some(Program::Cargo(cargo)) = &checked.entrypoint.main else {
        panic!("the demo is built by cargo: {:?}", checked.entrypoint)
    };
    assert_eq!(cargo.bin.as_deref(), Some("scratch-demo"));
    assert!(cargo.manifest_path.as_ref().unwrap().is_absolute());
    assert_eq!(checked.config.user.uid, 1000);
    assert_eq!(checked.config.user_name, "demo");
}

#[test]
fn trace_options_from_husk_toml() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("husk.toml");
    std::fs::write(
        &path,
        "entrypoint = \"/usr/bin/python3\"\nargs = [\"app.py\"]\ntrace-run = [\"-c 'print(1)'\"]\n\
         trace-timeout = \"500ms\"\ntrace-env = [\"A=1\"]\ntrace-workdir = \"work\"\n\
         trace-exclude = [\"/srv/cache\"]\ntrace-include = [\"keys/app.key\"]\n\
         trace-allow-failure = true\ntrace-report = \"r.json\"\ncheck = true\n",
    )
    .unwrap();
    let opts = BuildOptions::from_toml_file(&path).unwrap();
    assert_eq!(opts.trace_report, Some(dir.path().join("r.json")));
    assert_eq!(opts.check, Some(true));
    let env = Environment {
        home: Some("/home/me".into()),
        ..Environment::default()
    };
    let req = opts.into_request(&env).unwrap();
    let t = req.trace.expect("a --trace-run turns tracing on");
    assert_eq!(
        t.runs,
        vec![
            vec!["app.py".to_string()],
            vec!["-c".into(), "print(1)".into()]
        ]
    );
    assert_eq!(t.timeout, std::time::Duration::from_millis(500));
    assert_eq!(t.env, vec![("A".to_string(), "1".to_string())]);
    assert_eq!(t.workdir, Some(dir.path().join("work")));
    assert_eq!(t.includes, vec![dir.path().join("keys/app.key")]);
    assert!(t.allow_failure);
    assert_eq!(t.homes, vec![PathBuf::from("/home/me")]);
}

#[test]
fn tracing_is_off_unless_asked_and_its_options_are_still_checked() {
    let base = || BuildOptions {
        entrypoint: Some("/usr/bin/python3".into()),
        ..Default::default()
    };
    let req = base().into_request(&Environment::default()).unwrap();
    assert!(req.trace.is_none());
    let bad = [
        BuildOptions {
            trace_timeout: Some("ten".into()),
            ..base()
        },
        BuildOptions {
            trace_runs: Some(vec!["'unclosed".into()]),
            ..base()
        },
        BuildOptions {
            trace_env: Some(vec!["=x".into()]),
            ..base()
        },
        BuildOptions {
            trace_excludes: Some(vec!["relative".into()]),
            ..base()
        },
    ];
    for (o, flag) in bad.into_iter().zip([
        "--trace-timeout",
        "--trace-run",
        "--trace-env",
        "--trace-exclude",
    ]) {
        let e = o
            .into_request(&Environment::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(flag), "{flag}: {e}");
    }
}

#[test]
fn a_traced_entrypoint_lands_at_its_host_path_unless_dest_says_otherwise() {
    let traced = BuildOptions {
        entrypoint: Some("/usr/bin/python3".into()),
        trace: Some(true),
        ..Default::default()
    };
    let req = traced
        .clone()
        .into_request(&Environment::default())
        .unwrap();
    let req = req.with_entrypoint("/usr/bin/python3".into()).unwrap();
    assert_eq!(req.dest.to_string(), "/usr/bin/python3");
    assert_eq!(req.tags, ["python3:latest"]);
    let with_dest = BuildOptions {
        dest: Some("/app/py".into()),
        ..traced
    };
    let req = with_dest.into_request(&Environment::default()).unwrap();
    let req = req.with_entrypoint("/usr/bin/python3".into()).unwrap();
    assert_eq!(req.dest.to_string(), "/app/py");
}

#[test]
fn sbom_and_package_db_options() {
    let base = || BuildOptions {
        entrypoint: Some("/bin/x".into()),
        ..Default::default()
    };
    let req = base().into_request(&env()).unwrap();
    assert!(req.contents.package_db, "package records are on by default");
    assert!(!req.encoding.sbom.any(), "no SBOM unless asked");
    let req = BuildOptions {
        package_db: Some(false),
        sbom: Some("all".into()),
        ..base()
    }
    .into_request(&env())
    .unwrap();
    assert!(!req.contents.package_db);
    assert!(req.encoding.sbom.spdx && req.encoding.sbom.cyclonedx);
    let e = BuildOptions {
        sbom: Some("swid".into()),
        ..base()
    }
    .into_request(&env())
    .unwrap_err();
    assert!(e.to_string().starts_with("invalid --sbom \"swid\""), "{e}");
    // In a file, the key and the file are named; sbom-output is taken from its directory.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("husk.toml");
    std::fs::write(
        &path,
        "entrypoint = \"x\"\nsbom = \"SPDX\"\nsbom-output = \"docs\"\npackage-db = false\n",
    )
    .unwrap();
    let opts = BuildOptions::from_toml_file(&path).unwrap();
    assert_eq!(opts.sbom_output, Some(dir.path().join("docs")));
    let e = opts.into_request(&env()).unwrap_err();
    assert!(e.to_string().contains("key sbom in"), "{e}");
}
