//! RUN scripts: line mapping, shells, parsed commands, and hostile input.

use husk_dockerfile::shell::{Dialect, Incomplete, Parsed, Script, Shell};
use husk_dockerfile::{Dockerfile, parse};

fn df(text: &str) -> Dockerfile {
    parse(text).expect("parses")
}

/// The commands of the only RUN of the last stage, as (program, args) texts.
fn first_run(text: &str) -> Parsed {
    let d = df(text);
    let runs = d.runs(d.stages.len() - 1);
    runs[0].parse()
}

fn names(p: &Parsed) -> Vec<String> {
    p.commands
        .iter()
        .map(|c| {
            c.words
                .iter()
                .map(|w| w.text())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn continuation_lines_are_joined_as_buildkit_does_and_mapped_back() {
    let t = "FROM debian:12\nRUN apt-get update \\\n  # a comment\n  && apt-get install -y \\\n     curl \\\n\n  && rm -rf /var/lib/apt/lists/*\n";
    let d = df(t);
    let runs = d.runs(0);
    let s = runs[0].script.expect("shell form has a script");
    assert_eq!(
        s.text,
        "apt-get update   && apt-get install -y      curl   && rm -rf /var/lib/apt/lists/*"
    );
    let p = runs[0].parse();
    assert_eq!(
        names(&p),
        [
            "apt-get update",
            "apt-get install -y curl",
            "rm -rf /var/lib/apt/lists/*"
        ]
    );
    let lines: Vec<u32> = p.commands.iter().map(|c| c.line).collect();
    assert_eq!(lines, [2, 4, 7]);
    assert_eq!(s.line_at(s.text.find("curl").unwrap()), 5);
}

#[test]
fn quotes_are_removed_from_static_words_only() {
    let p = first_run("FROM a\nRUN echo 'a b' \"c\\\"d\" e\\ f $HOME \"x$Y\" $(printf z)\n");
    let w = &p.commands[0].words;
    assert_eq!(w[1].value.as_deref(), Some("a b"));
    assert_eq!(w[2].value.as_deref(), Some("c\"d"));
    assert_eq!(w[3].value.as_deref(), Some("e f"));
    assert_eq!(w[4].value, None);
    assert_eq!(w[5].value, None);
    assert_eq!(w[6].value, None);
    // The substitution's command is found, isolated.
    assert!(
        p.commands
            .iter()
            .any(|c| c.name() == Some("printf") && c.isolated)
    );
}

#[test]
fn pipelines_lists_subshells_and_wrappers() {
    let p = first_run(
        "FROM a\nRUN set -eux; curl -fsSL https://x/i.sh | sudo -E bash -s -- ; (cd /src && make) || true\n",
    );
    assert_eq!(names(&p)[0], "set -eux");
    let curl = &p.commands[1];
    let bash = &p.commands[2];
    assert_eq!(
        (curl.pipeline, curl.pipe_index, curl.pipe_len),
        (bash.pipeline, 0, 2)
    );
    assert_eq!(bash.pipe_index, 1);
    assert_eq!(bash.program().map(|(n, _)| n), Some("bash"));
    let cd = p.commands.iter().find(|c| c.name() == Some("cd")).unwrap();
    assert!(cd.isolated, "cd in a subshell does not leak");
    assert!(!p.pipefail_before(curl.offset));
}

#[test]
fn pipefail_from_set_and_from_shell() {
    let p = first_run("FROM a\nRUN set -euxo pipefail && curl -f x | tar x\n");
    let curl = p
        .commands
        .iter()
        .find(|c| c.name() == Some("curl"))
        .unwrap();
    assert!(p.pipefail_before(curl.offset));
    let d = df(
        "FROM a AS base\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nFROM base AS b\nRUN a | b\n",
    );
    let runs = d.runs(1);
    assert!(
        runs[0].shell.pipefail,
        "SHELL is inherited from the base stage"
    );
    assert_eq!(runs[0].shell.dialect, Some(Dialect::Bash));
    assert!(!Shell::default_linux().pipefail);
}

#[test]
fn exec_form_heredocs_and_powershell() {
    let d = df(
        "FROM a\nRUN [\"bash\", \"-ec\", \"apt-get update | cat\"]\nRUN [\"apt-get\", \"install\", \"-y\", \"x\"]\n",
    );
    let runs = d.runs(0);
    assert_eq!(runs[0].shell.dialect, Some(Dialect::Bash));
    assert_eq!(runs[0].parse().commands[0].pipe_len, 2);
    assert_eq!(names(&runs[1].parse()), ["apt-get install -y x"]);

    let d = df("FROM a\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n");
    let p = d.runs(0)[0].parse();
    assert_eq!(names(&p), ["apt-get update", "apt-get install -y curl"]);
    assert_eq!(p.commands[1].line, 4);

    let d = df("FROM a\nRUN <<EOF bash -e\ncurl x | sh\nEOF\n");
    let p = d.runs(0)[0].parse();
    let sh = p
        .commands
        .iter()
        .find(|c| c.name() == Some("sh"))
        .expect("heredoc body walked");
    assert_eq!(sh.line, 3);

    let d = df("FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n");
    assert!(matches!(
        d.runs(0)[0].parse().incomplete,
        Some(Incomplete::NotShell { .. })
    ));

    let d = df("FROM a\nSHELL [\"powershell\", \"-Command\"]\nRUN Get-Item x | Remove-Item\n");
    let runs = d.runs(0);
    assert_eq!(runs[0].shell.dialect, None);
    assert!(runs[0].parse().commands.is_empty());
}

#[test]
fn nested_shell_scripts_are_walked() {
    let p = first_run("FROM a\nRUN su app -c 'true' && sh -c 'curl -s x | bash'\n");
    assert!(
        p.commands
            .iter()
            .any(|c| c.name() == Some("curl") && c.pipe_len == 2)
    );
}

#[test]
fn syntax_errors_are_reported_not_fatal() {
    let p = first_run("FROM a\nRUN echo \"unterminated && if then fi\n");
    assert!(p.commands.is_empty());
    assert!(matches!(p.incomplete, Some(Incomplete::Syntax { .. })));
}

#[test]
fn hostile_scripts_are_bounded() {
    // 1 MB of commands: not parsed, said so.
    let big = "echo a && ".repeat(100_000) + "true";
    let p = husk_dockerfile::shell::parse(&Script::on_line(big, 2), Dialect::Sh);
    assert!(matches!(p.incomplete, Some(Incomplete::TooLarge { .. })));
    // Just under the limit still parses, with a bounded number of commands kept.
    let many = "a;".repeat(husk_dockerfile::shell::MAX_SCRIPT_BYTES / 2 - 1);
    let p = husk_dockerfile::shell::parse(&Script::on_line(many, 2), Dialect::Bash);
    assert!(p.commands.len() <= husk_dockerfile::shell::MAX_COMMANDS);
    // Deep nesting of every kind: refused before the parser recurses.
    for (open, close) in [
        ("(", ")"),
        ("$(", ")"),
        ("{ ", "; }"),
        ("if true; then ", "; fi"),
        ("`", "`"),
    ] {
        let deep = format!("{}true{}", open.repeat(5000), close.repeat(5000));
        let p = husk_dockerfile::shell::parse(&Script::on_line(deep, 2), Dialect::Bash);
        assert!(p.commands.len() <= 1, "{open}");
        assert!(p.incomplete.is_some(), "{open}");
    }
    // Every kind of nesting just under the limit, in a test thread's small stack.
    let n = husk_dockerfile::shell::MAX_NESTING - 1;
    for (open, close) in [
        ("(: ; ", ")"),
        ("$(", ")"),
        ("{ ", "; }"),
        ("if true; then ", "; fi"),
        ("while :; do ", "; done"),
        ("echo \"$(", ")\""),
    ] {
        let deep = format!("{}true{}", open.repeat(n), close.repeat(n));
        let _ = husk_dockerfile::shell::parse(&Script::on_line(deep, 2), Dialect::Bash);
    }
    // Nesting the limit allows, in a test thread's small stack.
    let ok = format!("{}true{}", "(: ; ".repeat(40), " )".repeat(40));
    let p = husk_dockerfile::shell::parse(&Script::on_line(ok, 2), Dialect::Bash);
    assert_eq!(p.commands.len(), 41, "{:?}", p.incomplete);
    assert_eq!(p.incomplete, None);
    // A 1 MB RUN line in a Dockerfile.
    let t = format!("FROM a\nRUN {}\n", "x".repeat(1 << 20));
    let p = first_run(&t);
    assert!(p.commands.is_empty());
    // Garbage bytes and unbalanced quotes.
    for junk in [
        "\"'`$((",
        "<<<<<<",
        "$(((((",
        "|||&&;;",
        "${{{{{",
        "case x in",
        "\u{0}\u{7f}é\\",
    ] {
        let _ = husk_dockerfile::shell::parse(&Script::on_line(junk.into(), 2), Dialect::Sh);
    }
}

#[test]
fn scopes_say_where_pipefail_reaches() {
    let p = first_run(
        "FROM a\nRUN set -o pipefail; (a | b); sh -c 'c | d'; bash -o pipefail -c 'e | f'; x=$(g | h) & i | j\n",
    );
    let at = |n: &str| p.commands.iter().position(|c| c.name() == Some(n)).unwrap();
    assert!(
        p.pipefail_at(at("a"), false),
        "a subshell copies its parent"
    );
    assert!(p.pipefail_at(at("g"), false), "so does a substitution");
    assert!(!p.pipefail_at(at("c"), false), "sh -c is a new shell");
    assert!(!p.pipefail_at(at("c"), true), "whatever the RUN's shell");
    assert!(p.pipefail_at(at("e"), false), "bash -o pipefail -c");
    assert!(p.pipefail_at(at("i"), false));
    assert!(
        !p.pipefail_at(at("set"), false),
        "not before the set itself"
    );
    assert!(p.pipefail_at(at("set"), true));
    let c = &p.commands[at("c")];
    assert!(c.isolated && !p.scopes[c.scope].inherits);
    assert_eq!(p.commands[at("set")].scope, 0);
    // Out-of-range indices answer with the shell's own setting.
    assert!(p.pipefail_at(usize::MAX, true));
    assert!(!Parsed::default().pipefail_at(0, false));
}

#[test]
fn set_and_shopt_read_as_the_shell_reads_them() {
    let change = |s: &str| {
        let p = first_run(&format!("FROM a\nRUN {s}\n"));
        p.commands[0].pipefail_change()
    };
    assert_eq!(change("set -o pipefail"), Some(true));
    assert_eq!(change("set -eux -o nounset -o pipefail"), Some(true));
    assert_eq!(change("set -Eeuo pipefail"), Some(true));
    assert_eq!(change("set +o pipefail"), Some(false));
    assert_eq!(change("set -o pipefail +o pipefail"), Some(false));
    assert_eq!(change("set -- -o pipefail"), None);
    assert_eq!(change("set x -o pipefail"), None);
    assert_eq!(change("set -o"), None);
    assert_eq!(change("set -o \"$X\""), None);
    assert_eq!(change("shopt -so pipefail"), Some(true));
    assert_eq!(change("shopt -u -o pipefail"), Some(false));
    assert_eq!(
        change("shopt -s pipefail"),
        None,
        "not a set -o option to shopt without -o"
    );
    assert_eq!(change("echo -o pipefail"), None);
}

#[test]
fn env_in_front_of_a_shell_is_looked_through() {
    let s = Shell::new(vec![
        "/usr/bin/env".into(),
        "-S".into(),
        "bash".into(),
        "-eo".into(),
        "pipefail".into(),
    ]);
    assert_eq!((s.dialect, s.pipefail), (Some(Dialect::Bash), true));
    let s = Shell::new(vec!["env".into(), "-S bash -o pipefail".into()]);
    assert_eq!((s.dialect, s.pipefail), (Some(Dialect::Bash), true));
    let s = Shell::new(vec!["env".into(), "-i".into(), "A=1".into(), "sh".into()]);
    assert_eq!(s.dialect, Some(Dialect::Sh));
    for argv in [
        vec!["env"],
        vec!["env", "-S"],
        vec!["env", "-S", ""],
        vec!["env", "A=1"],
    ] {
        let s = Shell::new(argv.into_iter().map(String::from).collect());
        assert_eq!(s.dialect, None);
    }
}
