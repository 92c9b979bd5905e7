//! `cargo husk [OPTIONS] [-- ARGS]`: `husk build --cargo` for the current package, as a
//! cargo subcommand. Cargo runs it as `cargo-husk husk ...`. Cargo's own spellings are
//! taken as cargo users type them (`-p`/`--package`, `--bin`, `--release`, `--profile`,
//! `--target`, `-F`/`--features`, `--manifest-path`); every other argument is passed to
//! `husk build` as it is (`-t`, `-o`, `--load`, `--trace`, `-- ARGS`...). The `husk`
//! next to this program is run, else the one on PATH.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// husk build's arguments for cargo's: `--profile` and `--release` name husk's
/// `--cargo-profile`, `-F` is `--features`, `-p` is `--package`; the rest is unchanged.
fn translate(args: impl IntoIterator<Item = OsString>) -> Result<Vec<OsString>, String> {
    let mut out: Vec<OsString> = vec!["build".into(), "--cargo".into()];
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        match text {
            "--" => {
                out.push(arg);
                out.extend(args.by_ref());
            }
            "--release" => out.extend(["--cargo-profile".into(), "release".into()]),
            "--profile" => out.push("--cargo-profile".into()),
            "-F" => out.push("--features".into()),
            "-p" => out.push("--package".into()),
            "--all-features" | "--no-default-features" | "--workspace" | "--all" => {
                return Err(format!(
                    "{text} is not supported by cargo husk: name the features with --features, and the package with --package"
                ));
            }
            _ => match text.strip_prefix("--profile=") {
                Some(p) => out.push(format!("--cargo-profile={p}").into()),
                None => out.push(arg),
            },
        }
    }
    Ok(out)
}

/// The husk beside this program (as `cargo install` puts them), else `husk` on PATH.
fn husk() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("husk")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("husk"))
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    // `cargo husk ...` runs `cargo-husk husk ...`; run directly, there is no `husk` word.
    if args.peek().is_some_and(|a| a == "husk") {
        args.next();
    }
    let translated = match translate(args) {
        Ok(t) => t,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let program = husk();
    match Command::new(&program).args(&translated).status() {
        Ok(status) => ExitCode::from(status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1))),
        Err(e) => {
            eprintln!(
                "error: cannot run {}: {e}; install husk (cargo install --path crates/husk) or put it on PATH",
                program.display()
            );
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::translate;

    fn t(args: &[&str]) -> Vec<String> {
        translate(args.iter().map(Into::into))
            .unwrap()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn cargo_spellings_become_husk_flags() {
        assert_eq!(
            t(&[
                "-p",
                "app",
                "--release",
                "-F",
                "tls",
                "-t",
                "app:1",
                "--",
                "--port",
                "-p"
            ]),
            [
                "build",
                "--cargo",
                "--package",
                "app",
                "--cargo-profile",
                "release",
                "--features",
                "tls",
                "-t",
                "app:1",
                "--",
                "--port",
                "-p"
            ]
        );
        assert_eq!(
            t(&["--profile=dist", "--target", "x86_64-unknown-linux-musl"]),
            [
                "build",
                "--cargo",
                "--cargo-profile=dist",
                "--target",
                "x86_64-unknown-linux-musl"
            ]
        );
        assert!(translate(["--all-features".into()]).is_err());
    }
}
