//! Dockerfile rules, one per file, and the helpers several share: stage inheritance
//! (effective USER, scratch ancestry), RUN text split into commands, and (`shell`) the
//! parsed RUN scripts the command rules read.

mod add_instead_of_copy;
mod add_url;
mod apk_pin;
mod apt_hygiene;
mod apt_not_apt_get;
mod apt_pin;
mod apt_yes;
mod buildkit;
mod cd_workdir;
mod chmod_777;
mod copy_relative_dest;
mod copy_whole_filesystem;
mod curl_and_wget;
mod curl_no_fail;
mod curl_pipe_shell;
mod expose_privileged;
mod from_latest;
mod from_not_pinned;
mod gem_pin;
mod go_install_version;
mod healthcheck_curl_scratch;
mod named_user_no_passwd;
mod not_minimal;
mod npm_pin;
mod pip_no_cache;
mod pip_pin;
mod pipefail;
mod root_user;
mod rpm_hygiene;
mod rpm_pin;
mod secret_arg_env;
mod secret_files;
mod shell;
mod shell_form_scratch;
pub mod shellcheck;
mod stages;
mod sudo;
mod unknown_instruction;
mod untrusted_registry;
mod useradd_uid;

pub use add_instead_of_copy::AddInsteadOfCopy;
pub use add_url::AddUrl;
pub use apk_pin::ApkPin;
pub use apt_hygiene::AptHygiene;
pub use apt_not_apt_get::AptNotAptGet;
pub use apt_pin::AptPin;
pub use apt_yes::AptYes;
pub use buildkit::*;
pub use cd_workdir::CdWorkdir;
pub use chmod_777::Chmod777;
pub use copy_relative_dest::CopyRelativeDest;
pub use copy_whole_filesystem::CopyWholeFilesystem;
pub use curl_and_wget::CurlAndWget;
pub use curl_no_fail::CurlNoFail;
pub use curl_pipe_shell::CurlPipeShell;
pub use expose_privileged::ExposePrivileged;
pub use from_latest::FromLatest;
pub use from_not_pinned::FromNotPinned;
pub use gem_pin::GemPin;
pub use go_install_version::GoInstallVersion;
pub use healthcheck_curl_scratch::HealthcheckCurlScratch;
pub use named_user_no_passwd::NamedUserNoPasswd;
pub use not_minimal::NotMinimal;
pub use npm_pin::NpmPin;
pub use pip_no_cache::PipNoCache;
pub use pip_pin::PipPin;
pub use pipefail::Pipefail;
pub use root_user::RootUser;
pub use rpm_hygiene::RpmHygiene;
pub use rpm_pin::RpmPin;
pub use secret_arg_env::SecretArgEnv;
pub use secret_files::SecretFiles;
pub use shell_form_scratch::ShellFormScratch;
pub use shellcheck::Shellcheck;
pub use stages::*;
pub use sudo::Sudo;
pub use unknown_instruction::UnknownInstruction;
pub use untrusted_registry::UntrustedRegistry;
pub use useradd_uid::UseraddUid;

use husk_dockerfile::shell::{Dialect, Script};
use husk_dockerfile::{BaseImage, Dockerfile, Instruction, Kind, Span};

/// The last USER of stage `index` or the stages it is built on (its own win).
pub(crate) fn effective_user(
    df: &Dockerfile,
    index: usize,
) -> Option<(String, Option<String>, Span)> {
    df.ancestry(index).into_iter().find_map(|s| {
        s.instructions.iter().rev().find_map(|i| match &i.kind {
            Kind::User { user, group } => Some((user.clone(), group.clone(), i.span)),
            _ => None,
        })
    })
}

/// Whether stage `index` is built on `scratch` (directly or through earlier stages).
pub(crate) fn from_scratch(df: &Dockerfile, index: usize) -> bool {
    df.ancestry(index)
        .last()
        .is_some_and(|s| s.base == BaseImage::Scratch)
}

/// Every instruction of stage `index` and the stages it is built on, base first.
pub(crate) fn inherited(df: &Dockerfile, index: usize) -> Vec<&Instruction> {
    df.ancestry(index)
        .into_iter()
        .rev()
        .flat_map(|s| s.instructions.iter())
        .collect()
}

/// Per stage: whether it or a stage it is built on holds an instruction `pred` accepts
/// (what `inherited(df, i).iter().any(pred)` says for each `i`), in one pass over the
/// stages, so a rule asking it of every stage or every RUN stays linear.
pub(crate) fn inherits_any(df: &Dockerfile, pred: impl Fn(&Instruction) -> bool) -> Vec<bool> {
    df.along_ancestry(|s, base: Option<&bool>| {
        base.copied().unwrap_or(false) || s.instructions.iter().any(&pred)
    })
}

/// Per stage: whether it is built on `scratch` ([`from_scratch`] of every stage, in one
/// pass).
pub(crate) fn scratch_based(df: &Dockerfile) -> Vec<bool> {
    df.along_ancestry(|s, base: Option<&bool>| {
        base.copied().unwrap_or(s.base == BaseImage::Scratch)
    })
}

/// Whether a user text means root.
pub(crate) fn is_root(user: &str) -> bool {
    matches!(user, "root" | "0")
}

/// How one simple command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sep {
    Pipe,
    Other,
}

/// Split shell text into simple commands (words, unquoted where static; an expansion keeps
/// its raw text), each with the separator that follows it: the parsed model of
/// [`shell`], in source order (a substitution's commands after the command holding it).
pub(crate) fn commands(text: &str) -> Vec<(Vec<String>, Sep)> {
    let script = Script::on_line(text.to_owned(), 0);
    shell::parse_cached(&script, Some(Dialect::Sh))
        .commands
        .iter()
        .map(|c| {
            let words = c.words.iter().map(|w| w.text().to_owned()).collect();
            let sep = if c.pipe_index + 1 < c.pipe_len {
                Sep::Pipe
            } else {
                Sep::Other
            };
            (words, sep)
        })
        .collect()
}

/// The program of a simple command, after `sudo`, `env`, `exec` and `VAR=value` prefixes.
pub(crate) fn program(words: &[String]) -> (Option<&str>, &[String]) {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let w = w.as_str();
        if matches!(w, "sudo" | "env" | "exec" | "command" | "nohup")
            || (w.contains('=') && !w.starts_with('-') && !w.starts_with('/'))
            || (i > 0 && w.starts_with('-') && matches!(words[i - 1].as_str(), "sudo" | "env"))
        {
            i += 1;
            continue;
        }
        let base = w.rsplit('/').next().unwrap_or(w);
        return (Some(base), &words[i + 1..]);
    }
    (None, &[])
}

/// RUN instructions of one stage with their shell text.
pub(crate) fn runs(instructions: &[Instruction]) -> impl Iterator<Item = (&Instruction, String)> {
    instructions.iter().filter_map(|i| match &i.kind {
        Kind::Run { command, .. } => Some((i, command.text())),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::BTreeMap;

    use super::*;
    use crate::{DockerfileFacts, Selection, check_dockerfile};

    /// The number of findings of each rule id.
    fn by_rule(text: &str) -> BTreeMap<&'static str, usize> {
        let facts = DockerfileFacts::new("Dockerfile", husk_dockerfile::parse(text).unwrap());
        let mut out = BTreeMap::new();
        for f in check_dockerfile(&facts, &Selection::default()) {
            *out.entry(f.rule.id).or_default() += 1;
        }
        out
    }

    /// The per-stage helpers read each instruction once however long the chain of stages
    /// (`inherited` per stage read n²/2 of them), and agree with the per-stage ones.
    #[test]
    fn per_stage_facts_read_each_instruction_once() {
        let mut text = String::from("FROM scratch AS s0\nUSER 1\n");
        for i in 1..20_000 {
            text.push_str(&format!("FROM s{} AS s{i}\nENV A=1 B=2\nUSER 1\n", i - 1));
        }
        let df = husk_dockerfile::parse(&text).unwrap();
        let reads = Cell::new(0);
        let none = inherits_any(&df, |_| {
            reads.set(reads.get() + 1);
            false
        });
        assert_eq!(reads.get(), 1 + 2 * 19_999);
        assert!(none.iter().all(|n| !*n));
        let env = inherits_any(
            &df,
            |i| matches!(&i.kind, Kind::Env { pairs } if pairs.iter().any(|(k, _)| k == "B")),
        );
        assert!(!env[0] && env[1..].iter().all(|e| *e));
        assert!(scratch_based(&df).iter().all(|s| *s));
        for i in [0, 1, 2, 19_999] {
            assert_eq!(
                env[i],
                inherited(&df, i)
                    .iter()
                    .any(|i| matches!(&i.kind, Kind::Env { .. }))
            );
            assert!(from_scratch(&df, i));
        }
    }

    /// The adversarial review's chain, every stage FROM the one before (418 KB, under the
    /// 1 MiB limit), with a RUN, a relative COPY and a named USER in each, through every
    /// Dockerfile rule: 41 s in release before the per-stage facts were shared, and
    /// minutes in a debug test.
    #[test]
    fn twenty_thousand_stage_chain_through_every_rule() {
        let mut text = String::from("FROM scratch AS s0\n");
        for i in 1..20_000 {
            text.push_str(&format!(
                "FROM s{} AS s{i}\nRUN pip install x\nCOPY a rel/\nUSER app\n",
                i - 1
            ));
        }
        let found = by_rule(&text);
        // Every RUN lacks --no-cache-dir; every stage names a user with no /etc/passwd.
        assert_eq!(found.get("HUSK-D056"), Some(&19_999), "{found:?}");
        assert_eq!(found.get("HUSK-D011"), Some(&19_999), "{found:?}");
    }

    /// 100,000 RUNs in one stage through every Dockerfile rule (115 s in release for
    /// 150,000 before the pip rule read the stage's ENV once).
    #[test]
    fn a_hundred_thousand_runs_through_every_rule() {
        let text = format!("FROM debian:12\n{}", "RUN pip install x\n".repeat(100_000));
        let found = by_rule(&text);
        assert_eq!(found.get("HUSK-D056"), Some(&100_000), "{found:?}");
    }

    #[test]
    fn splits_commands_and_pipes() {
        let c = commands("curl -fsSL 'https://x/y z' | sh && apt-get install -y a; echo \"a|b\"");
        let words: Vec<Vec<String>> = c.iter().map(|(w, _)| w.clone()).collect();
        assert_eq!(words[0], vec!["curl", "-fsSL", "https://x/y z"]);
        assert_eq!(c[0].1, Sep::Pipe);
        assert_eq!(words[1], vec!["sh"]);
        assert_eq!(words[3], vec!["echo", "a|b"]);
        assert_eq!(
            program(&[
                "sudo".into(),
                "-E".into(),
                "/usr/bin/apt-get".into(),
                "x".into()
            ])
            .0,
            Some("apt-get")
        );
    }
}
