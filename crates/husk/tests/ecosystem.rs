//! husk as its users' tools expect it: shell completions that a real bash loads and
//! completes with, man pages that man-db renders without warnings, and colour that follows
//! `--color`, NO_COLOR and whether stdout is a terminal. Under CI (CI=true) a missing
//! bash or man fails these tests.

mod common;

use std::process::Command;

use common::*;

fn stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn completion_scripts_load_and_bash_completes_subcommands_and_flags() {
    let t = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = husk(t.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(stdout(&o).contains("husk"), "{shell}");
    }
    if !require("bash") {
        return;
    }
    let script = t.path().join("husk.bash");
    let o = husk(t.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    std::fs::write(&script, stdout(&o)).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "bash -n: {check:?}");
    // Drive the completion function as bash's programmable completion does.
    let complete = |words: &str| {
        let code = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); \
             COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}; \
             _husk husk \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let o = Command::new("bash").arg("-c").arg(code).output().unwrap();
        stdout(&o)
    };
    let words = complete("husk bu");
    assert_eq!(words.trim(), "build", "husk bu<TAB>");
    let words = complete("husk build --trace-t");
    assert!(words.lines().any(|w| w == "--trace-timeout"), "{words}");
    assert!(!words.lines().any(|w| w == "--tag"), "{words}");
}

#[test]
fn man_pages_render_without_warnings() {
    let t = tempfile::tempdir().unwrap();
    let o = husk(t.path()).arg("man").output().unwrap();
    assert!(stdout(&o).starts_with(".ie"), "roff on stdout");
    let dir = t.path().join("man");
    let o = husk(t.path())
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    stdout(&o);
    for page in ["husk.1", "husk-build.1", "husk-lint.1", "husk-pull.1"] {
        assert!(dir.join(page).is_file(), "{page}");
    }
    if !require("man") {
        return;
    }
    let o = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(dir.join("husk-build.1"))
        .env("MANWIDTH", "80")
        .env("PAGER", "cat")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    // Without a terminal, man emboldens by overstriking (`c\bc`): keep the last of each.
    let mut text = String::new();
    for c in stdout(&o).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    let warnings = String::from_utf8_lossy(&o.stderr);
    assert!(warnings.trim().is_empty(), "man warnings: {warnings}");
    assert!(text.contains("--trace-timeout"), "{text}");
}

#[test]
fn colour_follows_the_flag_no_color_and_the_terminal() {
    let t = tempfile::tempdir().unwrap();
    let df = t.path().join("Dockerfile");
    std::fs::write(&df, "FROM debian:12\nRUN echo hi\n").unwrap();
    let lint = |args: &[&str], no_color: bool| {
        let mut c = husk(t.path());
        c.arg("lint")
            .arg(&df)
            .args(["--no-shellcheck", "--fail-on", "never"]);
        c.args(args);
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        stdout(&c.output().unwrap())
    };
    let esc = |s: &str| s.contains('\x1b');
    // stdout is a pipe here: auto means no colour.
    assert!(!esc(&lint(&[], false)));
    assert!(esc(&lint(&["--color", "always"], false)));
    assert!(esc(&lint(&["--color", "always"], true)), "the flag wins");
    assert!(!esc(&lint(&["--color", "never"], false)));
    assert!(!esc(&lint(&["--color", "auto"], true)));
    let coloured = lint(&["--color", "always"], false);
    assert!(coloured.contains("\x1b[31mHIGH\x1b[0m"), "{coloured:?}");
    // JSON never carries colour.
    assert!(!esc(&lint(
        &["--color", "always", "--format", "json"],
        false
    )));
}
