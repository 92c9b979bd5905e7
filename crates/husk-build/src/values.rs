//! The typed values of build options and their parsers: a numeric [`User`], a [`Port`],
//! a [`FileSpec`], [`CaCerts`], compression, stop signals, modes, `KEY=VALUE` pairs.
//!
//! Every parser takes the [`Setting`] its text came from, so an error names the option
//! and where it was given (`--user`, or `key user in /src/husk.toml`).

use std::fmt;
use std::path::PathBuf;

use husk_layer::{Compression, ImagePath};
use serde::Deserialize;

use crate::BuildError;

/// Which option a value belongs to and where it was given, for error messages: shown as
/// the flag (`--user`) or as the key in a named file (`key user in /src/husk.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The command-line flag, e.g. `--user`.
    pub flag: &'static str,
    /// The `husk.toml` key, e.g. `user-name`.
    pub key: &'static str,
    /// The `husk.toml` (or Cargo.toml) the value came from; `None` when it came from a flag.
    pub file: Option<PathBuf>,
    /// Whether the file is a Cargo.toml, whose `[package.metadata.husk]` table holds the
    /// keys (else they are at the top of a `husk.toml`).
    pub in_cargo_manifest: bool,
}

impl Setting {
    /// The option given as a flag.
    #[must_use]
    pub const fn flag(flag: &'static str, key: &'static str) -> Setting {
        Setting {
            flag,
            key,
            file: None,
            in_cargo_manifest: false,
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            None => f.write_str(self.flag),
            Some(path) if self.in_cargo_manifest => write!(
                f,
                "key {}.{} in {}",
                crate::options::CARGO_METADATA_TABLE,
                self.key,
                path.display()
            ),
            Some(path) => write!(f, "key {} in {}", self.key, path.display()),
        }
    }
}

/// A numeric user and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
}

/// Where the CA bundle comes from.
///
/// In `husk.toml`, `ca-certs` is a path, or the word `"host"` (the default) or `"none"`
/// (no bundle and no `SSL_CERT_FILE`); a file literally named `none` is `"./none"`. The
/// words are read into this enum when the file is parsed and go no further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaCerts {
    /// The host's bundle (`/etc/ssl/certs/ca-certificates.crt`).
    Host,
    /// A PEM bundle at this host path.
    File(PathBuf),
    /// No bundle.
    None,
}

impl<'de> Deserialize<'de> for CaCerts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CaCerts, D::Error> {
        let text = String::deserialize(d)?;
        match text.as_str() {
            "host" => Ok(CaCerts::Host),
            "none" => Ok(CaCerts::None),
            "" => Err(serde::de::Error::custom(
                "ca-certs is empty: expected a path to a PEM bundle, \"host\" or \"none\"",
            )),
            path => Ok(CaCerts::File(PathBuf::from(path))),
        }
    }
}

/// An extra file or directory to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    pub src: PathBuf,
    pub dest: ImagePath,
    /// True when DEST ended with `/`: SRC goes inside it under its own name.
    pub into_dir: bool,
    pub mode: Option<u32>,
    pub owner: Option<User>,
}

/// A port to expose, as the config's ExposedPorts key (`443/tcp`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Port(pub String);

/// Parse `UID[:GID]` (numeric). GID defaults to UID.
///
/// # Errors
/// [`BuildError::BadUser`] naming `at`.
pub fn parse_user(at: &Setting, s: &str) -> Result<User, BuildError> {
    let bad = || BuildError::BadUser {
        option: at.clone(),
        value: s.to_owned(),
    };
    let num = |p: &str| -> Result<u32, BuildError> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let v: u32 = p.parse().map_err(|_| bad())?;
        // 2^32-1 is (uid_t)-1, "no user"; Linux user namespaces map at most 2^32-2.
        if v == u32::MAX { Err(bad()) } else { Ok(v) }
    };
    match s.split_once(':') {
        Some((u, g)) => Ok(User {
            uid: num(u)?,
            gid: num(g)?,
        }),
        None => {
            let uid = num(s)?;
            Ok(User { uid, gid: uid })
        }
    }
}

/// Check a passwd user name: 1-32 of `[A-Za-z0-9_.-]`, not starting with `-`.
///
/// # Errors
/// [`BuildError::BadUserName`] naming `at`.
pub fn parse_user_name(at: &Setting, s: &str) -> Result<String, BuildError> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(BuildError::BadUserName {
            option: at.clone(),
            value: s.to_owned(),
        })
    }
}

/// Parse `PORT[/tcp|/udp]`.
///
/// # Errors
/// [`BuildError::BadPort`] naming `at`.
pub fn parse_port(at: &Setting, s: &str) -> Result<Port, BuildError> {
    let bad = || BuildError::BadPort {
        option: at.clone(),
        value: s.to_owned(),
    };
    let (num, proto) = match s.split_once('/') {
        Some((n, p)) => (n, p.to_ascii_lowercase()),
        None => (s, "tcp".to_owned()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") || num.is_empty() || num.len() > 5 {
        return Err(bad());
    }
    if !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match num.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(Port(format!("{n}/{proto}"))),
        _ => Err(bad()),
    }
}

/// Parse `KEY=VALUE`.
///
/// # Errors
/// [`BuildError::BadKeyValue`] naming `at`.
pub fn parse_key_value(at: &Setting, s: &str) -> Result<(String, String), BuildError> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !k.contains('\0') && !v.contains('\0') => {
            Ok((k.to_owned(), v.to_owned()))
        }
        _ => Err(BuildError::BadKeyValue {
            option: at.clone(),
            value: s.to_owned(),
        }),
    }
}

/// Parse an octal mode such as `0755` or `644`.
///
/// # Errors
/// [`BuildError::BadMode`] naming `at`.
pub fn parse_mode(at: &Setting, s: &str) -> Result<u32, BuildError> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if !digits.is_empty() && m <= 0o7777 => Ok(m),
        _ => Err(BuildError::BadMode {
            option: at.clone(),
            value: s.to_owned(),
        }),
    }
}

/// Parse `SRC:DEST[:MODE[:UID:GID]]`.
///
/// # Errors
/// [`BuildError::BadFileSpec`], or the mode/path error, naming `at`.
pub fn parse_file_spec(at: &Setting, s: &str) -> Result<FileSpec, BuildError> {
    let bad = || BuildError::BadFileSpec {
        option: at.clone(),
        value: s.to_owned(),
    };
    let parts: Vec<&str> = s.split(':').collect();
    let (src, dest, mode, owner) = match parts.as_slice() {
        [src, dest] => (*src, *dest, None, None),
        [src, dest, mode] => (*src, *dest, Some(*mode), None),
        [src, dest, mode, uid, gid] => (*src, *dest, Some(*mode), Some(format!("{uid}:{gid}"))),
        _ => return Err(bad()),
    };
    if src.is_empty() || !dest.starts_with('/') {
        return Err(bad());
    }
    let into_dir = dest.ends_with('/') && dest != "/";
    let dest_path = parse_path(at, dest)?;
    let mode = mode
        .filter(|m| !m.is_empty())
        .map(|m| parse_mode(at, m))
        .transpose()?;
    let owner = owner
        .map(|o| parse_user(at, &o).map_err(|_| bad()))
        .transpose()?;
    Ok(FileSpec {
        src: PathBuf::from(src),
        dest: dest_path,
        into_dir: into_dir || dest == "/",
        mode,
        owner,
    })
}

/// Parse `gzip`, `zstd`, `gzip:LEVEL`, `zstd:LEVEL`, `none`.
///
/// # Errors
/// [`BuildError::BadCompression`] naming `at`.
pub fn parse_compression(at: &Setting, s: &str) -> Result<Compression, BuildError> {
    let bad = || BuildError::BadCompression {
        option: at.clone(),
        value: s.to_owned(),
    };
    let (name, level) = match s.split_once(':') {
        Some((n, l)) => (n, Some(l)),
        None => (s, None),
    };
    let level_in = |range: std::ops::RangeInclusive<u32>, default: u32| match level {
        Some(l) => l.parse().ok().filter(|l| range.contains(l)).ok_or_else(bad),
        None => Ok(default),
    };
    Ok(match name {
        "gzip" => Compression::Gzip {
            level: level_in(1..=9, 6)?,
        },
        "zstd" => Compression::Zstd {
            level: level_in(1..=22, 3)? as i32,
        },
        "none" if level.is_none() => Compression::None,
        _ => return Err(bad()),
    })
}

/// Which SBOM documents `--sbom` asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SbomFormats {
    /// SPDX 2.3 JSON.
    pub spdx: bool,
    /// CycloneDX 1.6 JSON.
    pub cyclonedx: bool,
}

impl SbomFormats {
    /// True when any document is wanted.
    #[must_use]
    pub fn any(self) -> bool {
        self.spdx || self.cyclonedx
    }
}

/// Parse `spdx`, `cyclonedx` or `all` (both).
///
/// # Errors
/// [`BuildError::BadSbomFormat`] naming `at`.
pub fn parse_sbom_formats(at: &Setting, s: &str) -> Result<SbomFormats, BuildError> {
    match s {
        "spdx" => Ok(SbomFormats {
            spdx: true,
            cyclonedx: false,
        }),
        "cyclonedx" => Ok(SbomFormats {
            spdx: false,
            cyclonedx: true,
        }),
        "all" => Ok(SbomFormats {
            spdx: true,
            cyclonedx: true,
        }),
        _ => Err(BuildError::BadSbomFormat {
            option: at.clone(),
            value: s.to_owned(),
        }),
    }
}

/// Signals a stop signal may name.
const SIGNALS: &[&str] = &[
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// Normalise a stop signal: `TERM`, `sigterm`, `SIGTERM` -> `SIGTERM`; `15` stays `15`;
/// `SIGRTMIN+3` is accepted.
///
/// # Errors
/// [`BuildError::BadSignal`] naming `at`.
pub fn parse_signal(at: &Setting, s: &str) -> Result<String, BuildError> {
    let bad = || BuildError::BadSignal {
        option: at.clone(),
        value: s.to_owned(),
    };
    if let Ok(n) = s.parse::<u32>() {
        return if (1..=64).contains(&n) {
            Ok(n.to_string())
        } else {
            Err(bad())
        };
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    if SIGNALS.contains(&name.as_str())
        || name
            .strip_prefix("SIGRTMIN+")
            .or_else(|| name.strip_prefix("SIGRTMAX-"))
            .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n <= 30))
    {
        Ok(name)
    } else {
        Err(bad())
    }
}

/// Parse SOURCE_DATE_EPOCH.
///
/// # Errors
/// [`BuildError::BadEpoch`].
pub fn parse_epoch(s: &str) -> Result<u64, BuildError> {
    s.trim().parse().map_err(|_| BuildError::BadEpoch {
        value: s.to_owned(),
    })
}

/// Parse an absolute image path.
///
/// # Errors
/// [`BuildError::BadPath`] naming `at`.
pub fn parse_path(at: &Setting, s: &str) -> Result<ImagePath, BuildError> {
    ImagePath::parse(s).map_err(|source| BuildError::BadPath {
        option: at.clone(),
        value: s.to_owned(),
        source,
    })
}

/// Parse a duration: a whole number followed by `ms`, `s` or `m` (`500ms`, `10s`, `2m`),
/// at least 1 ms and at most a day.
///
/// # Errors
/// [`BuildError::BadDuration`] naming `at`.
pub fn parse_duration(at: &Setting, s: &str) -> Result<std::time::Duration, BuildError> {
    let bad = || BuildError::BadDuration {
        option: at.clone(),
        value: s.to_owned(),
    };
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let ms = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        _ => None,
    }
    .ok_or_else(bad)?;
    if ms == 0 || ms > 86_400_000 {
        return Err(bad());
    }
    Ok(std::time::Duration::from_millis(ms))
}

/// Split one `--trace-run` value into arguments the way a POSIX shell would (quotes and
/// backslashes; no expansion).
///
/// # Errors
/// [`BuildError::BadTraceRun`] naming `at` for an unclosed quote, a trailing backslash or
/// a NUL byte.
pub fn parse_trace_run(at: &Setting, s: &str) -> Result<Vec<String>, BuildError> {
    match shlex::split(s) {
        Some(args) if !s.contains('\0') => Ok(args),
        _ => Err(BuildError::BadTraceRun {
            option: at.clone(),
            value: s.to_owned(),
        }),
    }
}

/// Parse an absolute host path (`--trace-exclude`, `--trace-include`, `--trace-workdir`).
///
/// # Errors
/// [`BuildError::NotAbsolute`] naming `at`.
pub fn parse_host_dir(at: &Setting, p: &std::path::Path) -> Result<PathBuf, BuildError> {
    if !p.is_absolute() || p.as_os_str().as_encoded_bytes().contains(&0) {
        return Err(BuildError::NotAbsolute {
            option: at.clone(),
            value: p.to_path_buf(),
        });
    }
    Ok(p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(name: &'static str) -> Setting {
        Setting::flag(name, name.trim_start_matches('-'))
    }

    fn in_file(key: &'static str) -> Setting {
        Setting {
            file: Some(PathBuf::from("/src/husk.toml")),
            ..Setting::flag("--flag", key)
        }
    }

    #[test]
    fn users() {
        let at = flag("--user");
        assert_eq!(
            parse_user(&at, "1000").unwrap(),
            User {
                uid: 1000,
                gid: 1000
            }
        );
        assert_eq!(
            parse_user(&at, "1000:2000").unwrap(),
            User {
                uid: 1000,
                gid: 2000
            }
        );
        for bad in [
            "",
            "root",
            "1000:",
            ":1",
            "-1",
            "1000:1000:1",
            "4294967295",
            "99999999999",
            " 1",
        ] {
            assert!(parse_user(&at, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn user_names() {
        let at = flag("--user-name");
        assert_eq!(parse_user_name(&at, "web.app_1-x").unwrap(), "web.app_1-x");
        for bad in ["", "-x", "a b", "a:b", "é", &"a".repeat(33), "a\0"] {
            let e = parse_user_name(&at, bad).unwrap_err();
            assert!(matches!(e, BuildError::BadUserName { .. }), "{bad:?}");
            let msg = e.to_string();
            assert!(msg.starts_with("invalid --user-name "), "{msg}");
            assert!(!msg.contains("KEY=VALUE"), "{msg}");
        }
    }

    #[test]
    fn errors_name_the_flag_or_the_key_and_file() {
        let e = parse_user(&flag("--user"), "www-data").unwrap_err();
        assert!(
            e.to_string().starts_with("invalid --user \"www-data\""),
            "{e}"
        );
        let e = parse_user(&in_file("user"), "www-data").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid key user in /src/husk.toml \"www-data\""),
            "{e}"
        );
        assert!(!e.to_string().contains("--"), "{e}");
        let e = parse_port(&in_file("expose"), "0").unwrap_err();
        assert!(
            e.to_string().contains("key expose in /src/husk.toml"),
            "{e}"
        );
        let e = parse_file_spec(&in_file("files"), "a:/x:9").unwrap_err();
        assert!(e.to_string().contains("key files in /src/husk.toml"), "{e}");
    }

    #[test]
    fn ports() {
        let at = flag("--expose");
        assert_eq!(parse_port(&at, "443").unwrap().0, "443/tcp");
        assert_eq!(parse_port(&at, "53/UDP").unwrap().0, "53/udp");
        for bad in ["", "0", "65536", "80/icmp", "http", "-1", "80/", "0080000"] {
            assert!(parse_port(&at, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_specs() {
        let at = flag("--file");
        let f = parse_file_spec(&at, "a.crt:/srv/a.crt:0444:1000:1000").unwrap();
        assert_eq!(f.dest.as_str(), "/srv/a.crt");
        assert_eq!(f.mode, Some(0o444));
        assert_eq!(
            f.owner,
            Some(User {
                uid: 1000,
                gid: 1000
            })
        );
        assert!(parse_file_spec(&at, "dir:/srv/").unwrap().into_dir);
        for bad in [
            "a",
            "a:rel",
            ":/x",
            "a:/x:9",
            "a:/x:0644:1",
            "a:/../x",
            "a:/x:0644:u:g",
        ] {
            assert!(parse_file_spec(&at, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signals_and_compression() {
        let at = flag("--stop-signal");
        assert_eq!(parse_signal(&at, "term").unwrap(), "SIGTERM");
        assert_eq!(parse_signal(&at, "SIGRTMIN+3").unwrap(), "SIGRTMIN+3");
        assert!(parse_signal(&at, "SIGNOPE").is_err());
        assert!(parse_signal(&at, "0").is_err());
        let at = flag("--compression");
        assert!(matches!(
            parse_compression(&at, "zstd:19").unwrap(),
            Compression::Zstd { level: 19 }
        ));
        assert!(matches!(
            parse_compression(&at, "gzip").unwrap(),
            Compression::Gzip { level: 6 }
        ));
        assert!(parse_compression(&at, "brotli").is_err());
        assert!(parse_compression(&at, "gzip:0").is_err());
        assert!(parse_compression(&at, "zstd:23").is_err());
        assert!(parse_compression(&at, "none:1").is_err());
    }

    #[test]
    fn ca_certs_words_are_read_into_the_enum() {
        #[derive(Deserialize)]
        struct T {
            c: CaCerts,
        }
        let read = |s: &str| toml::from_str::<T>(&format!("c = {s}")).map(|t| t.c);
        assert_eq!(read("\"none\"").unwrap(), CaCerts::None);
        assert_eq!(read("\"host\"").unwrap(), CaCerts::Host);
        assert_eq!(
            read("\"./none\"").unwrap(),
            CaCerts::File(PathBuf::from("./none"))
        );
        assert!(read("\"\"").is_err());
        assert!(read("false").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(s in ".*") {
            let at = flag("--x");
            let _ = parse_user(&at, &s);
            let _ = parse_user_name(&at, &s);
            let _ = parse_port(&at, &s);
            let _ = parse_file_spec(&at, &s);
            let _ = parse_signal(&at, &s);
            let _ = parse_compression(&at, &s);
            let _ = parse_mode(&at, &s);
            let _ = parse_key_value(&at, &s);
        }
    }
}

#[cfg(test)]
mod trace_values {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        let at = Setting::flag("--trace-timeout", "trace-timeout");
        assert_eq!(
            parse_duration(&at, "500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(parse_duration(&at, "10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration(&at, "2m").unwrap(), Duration::from_secs(120));
        for bad in [
            "",
            "10",
            "s",
            "-1s",
            "0s",
            "1h",
            "1.5s",
            "99999999999999999999s",
            "25000m",
            " ms",
        ] {
            let e = parse_duration(&at, bad).unwrap_err().to_string();
            assert!(e.contains("--trace-timeout"), "{bad}: {e}");
        }
    }

    #[test]
    fn trace_runs_split_like_a_shell() {
        let at = Setting::flag("--trace-run", "trace-run");
        assert_eq!(
            parse_trace_run(&at, r#"-c 'print("a b")' "x y" z\ w"#).unwrap(),
            ["-c", r#"print("a b")"#, "x y", "z w"]
        );
        assert_eq!(parse_trace_run(&at, "").unwrap(), Vec::<String>::new());
        for bad in ["'open", "\"x", "a\\", "a\0b"] {
            assert!(parse_trace_run(&at, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn host_dirs_must_be_absolute() {
        let at = Setting::flag("--trace-exclude", "trace-exclude");
        assert!(parse_host_dir(&at, std::path::Path::new("/srv")).is_ok());
        let e = parse_host_dir(&at, std::path::Path::new("srv")).unwrap_err();
        assert!(e.to_string().contains("--trace-exclude"));
    }
}
