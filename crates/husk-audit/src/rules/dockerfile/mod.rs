//! Dockerfile rules, one per file, and the helpers several share: stage inheritance
//! (effective USER, scratch ancestry) and a small shell splitter for RUN text.

mod add_instead_of_copy;
mod add_url;
mod apt_hygiene;
mod buildkit;
mod chmod_777;
mod curl_pipe_shell;
mod expose_privileged;
mod from_latest;
mod from_not_pinned;
mod healthcheck_curl_scratch;
mod named_user_no_passwd;
mod not_minimal;
mod root_user;
mod secret_arg_env;
mod secret_files;
mod shell_form_scratch;
mod stages;
mod sudo;
mod unknown_instruction;
mod untrusted_registry;

pub use add_instead_of_copy::AddInsteadOfCopy;
pub use add_url::AddUrl;
pub use apt_hygiene::AptHygiene;
pub use buildkit::*;
pub use chmod_777::Chmod777;
pub use curl_pipe_shell::CurlPipeShell;
pub use expose_privileged::ExposePrivileged;
pub use from_latest::FromLatest;
pub use from_not_pinned::FromNotPinned;
pub use healthcheck_curl_scratch::HealthcheckCurlScratch;
pub use named_user_no_passwd::NamedUserNoPasswd;
pub use not_minimal::NotMinimal;
pub use root_user::RootUser;
pub use secret_arg_env::SecretArgEnv;
pub use secret_files::SecretFiles;
pub use shell_form_scratch::ShellFormScratch;
pub use stages::*;
pub use sudo::Sudo;
pub use unknown_instruction::UnknownInstruction;
pub use untrusted_registry::UntrustedRegistry;

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

/// Split shell text into simple commands (words, unquoted), each with the separator that
/// follows it. Good enough for policy: quotes and escapes are honoured, expansions are not.
pub(crate) fn commands(text: &str) -> Vec<(Vec<String>, Sep)> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    let flush = |words: &mut Vec<String>, cur: &mut String, in_word: &mut bool| {
        if *in_word {
            words.push(std::mem::take(cur));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, '|' | '&' | ';' | '\n') => {
                flush(&mut words, &mut cur, &mut in_word);
                let sep = if c == '|' && chars.peek() != Some(&'|') {
                    Sep::Pipe
                } else {
                    Sep::Other
                };
                if matches!(chars.peek(), Some('|' | '&')) {
                    chars.next();
                }
                if !words.is_empty() {
                    out.push((std::mem::take(&mut words), sep));
                }
            }
            (None, c) if c.is_whitespace() => flush(&mut words, &mut cur, &mut in_word),
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    flush(&mut words, &mut cur, &mut in_word);
    if !words.is_empty() {
        out.push((words, Sep::Other));
    }
    out
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
    use super::*;

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
