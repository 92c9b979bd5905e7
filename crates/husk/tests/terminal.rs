//! Terminal injection (issue 15): an image made by hand whose file names, link targets,
//! label keys and values, Env, User, ports, history, Entrypoint and platform carry escape
//! sequences, bell, carriage return, C1 controls and bidi overrides; a Dockerfile with an
//! ESC in its USER. Every text command run on them must print none of it raw, on stdout
//! or stderr, whether it succeeds or fails.

mod common;

use std::path::Path;

use common::{Run, husk_run};

/// The hostile payloads: OSC title + bell, CSI clear, CR overwrite, C1 CSI, bidi override
/// and isolate.
const OSC: &str = "\u{1b}]0;pwned\u{7}";
const CSI: &str = "\u{1b}[2J";
const C1: &str = "\u{9b}31m";
const RLO: &str = "\u{202e}";
const ISO: &str = "\u{2066}";

/// Whether `s` holds anything a terminal would act on (newline and tab excepted).
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| c != '\n' && c != '\t' && husk_oci::escape::is_unsafe(c))
        .collect()
}

fn assert_clean(what: &str, r: &Run) {
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        let bad = raw_controls(text);
        assert!(
            bad.is_empty(),
            "husk {what}: raw {bad:?} on {stream}:\n{}",
            text.escape_debug()
        );
    }
}

/// A layer whose every kind of name is hostile.
fn hostile_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: String, kind: tar::EntryType, link: Option<String>, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        match link {
            Some(l) => b.append_link(&mut h, name, l).unwrap(),
            None => b.append_data(&mut h, name, data).unwrap(),
        }
    };
    let file = tar::EntryType::Regular;
    add("etc/".into(), tar::EntryType::Directory, None, b"");
    add(
        "etc/passwd".into(),
        file,
        None,
        b"root:x:0:0:root:/root:/bin/sh\n",
    );
    add(format!("bin{CSI}/"), tar::EntryType::Directory, None, b"");
    add(format!("bin{CSI}/app{OSC}"), file, None, b"#!/bin/sh\n");
    add(format!("cr\roverwritten{C1}"), file, None, b"x");
    add(format!("evil{RLO}hs.txt"), file, None, b"x");
    add(format!("iso{ISO}late"), file, None, b"x");
    add("nl\nname".into(), file, None, b"x");
    add(
        "link".into(),
        tar::EntryType::Symlink,
        Some(format!("{CSI}target{RLO}")),
        b"",
    );
    add(
        format!("hard{OSC}"),
        tar::EntryType::Link,
        Some(format!("evil{RLO}hs.txt")),
        b"",
    );
    b.into_inner().unwrap()
}

/// An OCI layout image at `dir` (tag `t`) from `tar` and `config` (diff_ids filled in),
/// its layer descriptor annotated with control characters.
fn layout(dir: &Path, tar: &[u8], mut config: serde_json::Value) -> String {
    let (mut layer, diff_id) = common::put_gzip_layer(dir, tar);
    layer["annotations"] = serde_json::json!({format!("a{OSC}"): format!("v{RLO}")});
    config["rootfs"] = serde_json::json!({"type": "layers", "diff_ids": [diff_id]});
    common::write_layout(dir, &config, &[layer])
}

fn hostile_config(arch: &str) -> serde_json::Value {
    serde_json::json!({
        "architecture": arch, "os": "linux",
        "config": {
            "User": format!("app{OSC}{RLO}"),
            "Env": ["PATH=/bin", format!("EVIL={CSI}red\r{C1}"), format!("TZ=Eu{RLO}rope")],
            "Entrypoint": [format!("/bin{CSI}/app{OSC}")],
            "Cmd": [format!("\r{RLO}arg")],
            "WorkingDir": format!("/w{OSC}"),
            "ExposedPorts": {format!("80{CSI}/tcp"): {}},
            "StopSignal": format!("SIG{OSC}"),
            "Labels": {format!("key{CSI}{C1}"): format!("v\u{7}{ISO}"), "plain": "ok"},
            "Healthcheck": {"Test": ["CMD", format!("curl{OSC}")]},
        },
        "history": [{"created_by": format!("RUN {OSC} \r{RLO}"),
            "created": format!("2020-01-01T00:00:00Z{CSI}")}],
    })
}

#[test]
fn no_text_command_prints_image_data_raw() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let image = layout(&dir.join("a"), &hostile_tar(), hostile_config("amd64"));
    let plain = layout(
        &dir.join("b"),
        &tar::Builder::new(Vec::new()).into_inner().unwrap(),
        serde_json::json!({"architecture": "amd64", "os": "linux", "config": {}}),
    );
    let weird = layout(
        &dir.join("c"),
        &hostile_tar(),
        hostile_config(&format!("amd{CSI}64{RLO}")),
    );
    let dest = dir.join("out");
    let dest_s = dest.display().to_string();
    let cp_dest = dir.join("cp");
    std::fs::create_dir_all(&cp_dest).unwrap();
    let cp_s = cp_dest.display().to_string();
    let app = format!("/bin{CSI}/app{OSC}");
    let runs: Vec<Vec<&str>> = vec![
        vec!["ls", &image, "/"],
        vec!["ls", "-R", &image, "/"],
        vec!["ls", "-l", "-R", &image, "/"],
        vec!["ls", "-l", &image, "/link"],
        vec!["ls", &image, &app],
        vec!["ls", &image, "/missing\u{1b}[2J"],
        vec!["tree", &image],
        vec!["cat", &image, &app],
        vec!["cat", &image, "/bin\u{1b}[2J"],
        vec!["cat", &image, "/link"],
        vec!["inspect", &image],
        vec!["inspect", &weird],
        vec!["layers", &image],
        vec!["diff", &image, &plain],
        vec!["diff", &plain, &weird],
        vec!["validate", &image],
        vec!["validate", &weird],
        vec!["audit", &image],
        vec!["doctor", &image],
        vec!["doctor", &weird],
        vec!["export", &image, &dest_s],
        vec!["cp", &image, "/", &cp_s],
        vec!["cp", &image, "/nowhere\u{7}", &cp_s],
    ];
    for args in &runs {
        let r = husk_run(dir, args);
        assert_clean(&args.join(" "), &r);
        assert!(r.code >= 0, "husk {args:?} died: {}", r.stderr);
    }
    // The names are shown, escaped, not dropped.
    let r = husk_run(dir, &["ls", "-R", &image, "/"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for shown in [
        "evil\\u{202e}hs.txt",
        "cr\\roverwritten\\u{9b}31m",
        "nl\\nname",
        "bin\\u{1b}[2J/app\\u{1b}]0;pwned\\u{7}",
    ] {
        assert!(r.stdout.contains(shown), "{shown} in:\n{}", r.stdout);
    }
    let r = husk_run(dir, &["inspect", &image]);
    assert!(
        r.stdout
            .contains("key\\u{1b}[2J\\u{9b}31m=v\\u{7}\\u{2066}"),
        "{}",
        r.stdout
    );
}

#[test]
fn json_output_stays_json_with_the_data_intact() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let image = layout(&dir.join("a"), &hostile_tar(), hostile_config("amd64"));
    let r = husk_run(dir, &["inspect", "--format", "json", &image]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["user"], format!("app{OSC}{RLO}"), "{}", r.stdout);
    let r = husk_run(dir, &["ls", "-R", "--format", "json", &image, "/"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let paths: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(
        paths.contains(&format!("/evil{RLO}hs.txt").as_str()),
        "{paths:?}"
    );
}

#[test]
fn lint_escapes_a_dockerfile_user() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let df = dir.join("Dockerfile");
    std::fs::write(
        &df,
        format!(
            "FROM scratch\nCOPY app /app\nUSER app{OSC}{RLO}\nLABEL k{CSI}=v\r\nENTRYPOINT /app{C1}\n"
        ),
    )
    .unwrap();
    let r = husk_run(dir, &["lint", df.to_str().unwrap()]);
    assert_clean("lint", &r);
    assert!(
        r.stdout.contains("app\\u{1b}]0;pwned\\u{7}\\u{202e}"),
        "the USER is shown, escaped:\n{}",
        r.stdout
    );
    // A Dockerfile whose name is hostile, and one that fails to parse.
    let named = dir.join(format!("Docker{OSC}file"));
    std::fs::write(&named, format!("FROM scratch\nUSER a{CSI}\n")).unwrap();
    let r = husk_run(dir, &["lint", named.to_str().unwrap()]);
    assert_clean("lint (hostile name)", &r);
    std::fs::write(&named, format!("FROM scratch\nRUN [\"a{CSI}\n")).unwrap();
    let r = husk_run(dir, &["lint", named.to_str().unwrap()]);
    assert_clean("lint (parse error)", &r);
}
