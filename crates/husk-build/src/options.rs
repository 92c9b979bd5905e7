//! Build options as the user gives them (flags or `husk.toml`), and their validation into
//! a [`BuildRequest`]. The same struct is filled from both sources; flags override the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use husk_layer::{Compression, ImagePath};
use serde::Deserialize;

use crate::BuildError;

/// Raw options. Every field is optional so a file and flags can be merged; `husk.toml`
/// uses these names (kebab-case), and an unknown key is an error naming it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildOptions {
    /// Host path of the executable to package.
    pub entrypoint: Option<PathBuf>,
    /// Where it lands in the image (default `/app/<name>`).
    pub dest: Option<String>,
    /// Arguments appended to the entrypoint.
    pub args: Option<Vec<String>>,
    /// The image's default Cmd.
    pub cmd: Option<Vec<String>>,
    /// Extra files: `SRC:DEST[:MODE[:UID:GID]]`.
    pub files: Option<Vec<String>>,
    pub user: Option<String>,
    /// Name of the app user in /etc/passwd (default `nonroot` for 65532, else `app`).
    pub user_name: Option<String>,
    pub allow_root: Option<bool>,
    pub workdir: Option<String>,
    pub env: Option<Vec<String>>,
    pub labels: Option<Vec<String>>,
    pub annotations: Option<Vec<String>>,
    pub expose: Option<Vec<String>>,
    pub stop_signal: Option<String>,
    /// Exec-form healthcheck command (Docker's HEALTHCHECK CMD), e.g. ["/app/x", "healthcheck"].
    pub healthcheck: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    /// `gzip`, `zstd`, `gzip:9`, `zstd:19`.
    pub compression: Option<String>,
    /// CA bundle: a host path; `none` for no bundle. Default: the host's.
    pub ca_certs: Option<String>,
    /// Resolve and add shared libraries (default true).
    pub libraries: Option<bool>,
    /// Add glibc NSS modules for files/dns (default true when libc is in the closure).
    pub nss: Option<bool>,
    /// Add /etc/passwd, /etc/group, /etc/nsswitch.conf and the home directory (default true).
    pub passwd: Option<bool>,
    /// Add /tmp with mode 1777 (default true).
    pub tmp: Option<bool>,
    /// Add /usr/share/zoneinfo from the host (default false).
    pub tzdata: Option<bool>,
    /// Outputs (`oci:DIR`, `oci-archive:FILE`, `docker-archive:FILE`, `podman:NAME`).
    pub outputs: Option<Vec<String>>,
    /// Load into podman or docker after building.
    pub load: Option<bool>,
    /// Build the entrypoint with Cargo first (the `[cargo]` table).
    pub cargo: Option<crate::CargoOptions>,
}

macro_rules! merge_fields {
    ($base:ident, $over:ident; $($f:ident),* $(,)?) => {
        $( if $over.$f.is_some() { $base.$f = $over.$f; } )*
    };
}

impl BuildOptions {
    /// Read options from a `husk.toml`. Relative paths in it are taken from the file's
    /// directory.
    ///
    /// # Errors
    /// [`BuildError::ConfigFile`] naming the file, the key and the line.
    pub fn from_toml_file(path: &Path) -> Result<BuildOptions, BuildError> {
        let text = std::fs::read_to_string(path).map_err(|source| BuildError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut opts = Self::from_toml_str(&text).map_err(|message| BuildError::ConfigFile {
            path: path.to_path_buf(),
            message,
        })?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(base) = base {
            if let Some(e) = &opts.entrypoint
                && e.is_relative()
            {
                opts.entrypoint = Some(base.join(e));
            }
            if let Some(c) = &mut opts.cargo
                && let Some(m) = &c.manifest_path
                && m.is_relative()
            {
                c.manifest_path = Some(base.join(m));
            }
            if let Some(files) = &mut opts.files {
                for f in files.iter_mut() {
                    if !f.starts_with('/') {
                        *f = format!("{}/{f}", base.display());
                    }
                }
            }
        }
        Ok(opts)
    }

    /// Parse options from TOML text.
    ///
    /// # Errors
    /// The TOML error text (names unknown keys and the line).
    pub fn from_toml_str(text: &str) -> Result<BuildOptions, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }

    /// `self` with every option set in `over` replacing its own.
    pub fn merged(mut self, over: BuildOptions) -> BuildOptions {
        merge_fields!(self, over;
            entrypoint, dest, args, cmd, files, user, user_name, allow_root, workdir, env,
            labels, annotations, expose, stop_signal, healthcheck, tags, compression, ca_certs, libraries,
            nss, passwd, tmp, tzdata, outputs, load);
        if let Some(c) = over.cargo {
            self.cargo = Some(self.cargo.unwrap_or_default().merged(c));
        }
        self
    }
}

/// A numeric user and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
}

/// Where the CA bundle comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaCerts {
    Host,
    Path(PathBuf),
    None,
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

/// Validated build inputs.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub entrypoint: PathBuf,
    pub dest: ImagePath,
    pub args: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub files: Vec<FileSpec>,
    pub user: User,
    pub user_name: String,
    pub workdir: Option<ImagePath>,
    pub env: Vec<(String, String)>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub expose: Vec<Port>,
    pub stop_signal: Option<String>,
    pub healthcheck: Option<Vec<String>>,
    pub tags: Vec<String>,
    pub compression: Compression,
    pub ca_certs: CaCerts,
    pub libraries: bool,
    pub nss: bool,
    pub passwd: bool,
    pub tmp: bool,
    pub tzdata: bool,
    /// Seconds since the epoch for every mtime and the created time (SOURCE_DATE_EPOCH).
    pub epoch: u64,
    /// Where compressed layers are cached between builds.
    pub cache_dir: Option<PathBuf>,
}

/// Parse `UID[:GID]` (numeric). GID defaults to UID.
///
/// # Errors
/// [`BuildError::BadUser`].
pub fn parse_user(s: &str) -> Result<User, BuildError> {
    let bad = || BuildError::BadUser {
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

/// Parse `PORT[/tcp|/udp]`.
///
/// # Errors
/// [`BuildError::BadPort`].
pub fn parse_port(s: &str) -> Result<Port, BuildError> {
    let bad = || BuildError::BadPort {
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
/// [`BuildError::BadKeyValue`].
pub fn parse_key_value(option: &'static str, s: &str) -> Result<(String, String), BuildError> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !k.contains('\0') && !v.contains('\0') => {
            Ok((k.to_owned(), v.to_owned()))
        }
        _ => Err(BuildError::BadKeyValue {
            option,
            value: s.to_owned(),
        }),
    }
}

/// Parse an octal mode such as `0755` or `644`.
///
/// # Errors
/// [`BuildError::BadMode`].
pub fn parse_mode(s: &str) -> Result<u32, BuildError> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if !digits.is_empty() && m <= 0o7777 => Ok(m),
        _ => Err(BuildError::BadMode {
            value: s.to_owned(),
        }),
    }
}

/// Parse `SRC:DEST[:MODE[:UID:GID]]`.
///
/// # Errors
/// [`BuildError::BadFileSpec`] or the mode/path error.
pub fn parse_file_spec(s: &str) -> Result<FileSpec, BuildError> {
    let bad = || BuildError::BadFileSpec {
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
    let dest_path = ImagePath::parse(dest).map_err(|source| BuildError::BadPath {
        option: "--file DEST",
        value: dest.to_owned(),
        source,
    })?;
    let mode = mode.filter(|m| !m.is_empty()).map(parse_mode).transpose()?;
    let owner = owner
        .map(|o| parse_user(&o).map_err(|_| bad()))
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
/// [`BuildError::BadCompression`].
pub fn parse_compression(s: &str) -> Result<Compression, BuildError> {
    let bad = || BuildError::BadCompression {
        value: s.to_owned(),
    };
    let (name, level) = match s.split_once(':') {
        Some((n, l)) => (n, Some(l)),
        None => (s, None),
    };
    Ok(match name {
        "gzip" => Compression::Gzip {
            level: match level {
                Some(l) => l
                    .parse()
                    .ok()
                    .filter(|l| (1..=9).contains(l))
                    .ok_or_else(bad)?,
                None => 6,
            },
        },
        "zstd" => Compression::Zstd {
            level: match level {
                Some(l) => l
                    .parse()
                    .ok()
                    .filter(|l| (1..=22).contains(l))
                    .ok_or_else(bad)?,
                None => 3,
            },
        },
        "none" if level.is_none() => Compression::None,
        _ => return Err(bad()),
    })
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
/// [`BuildError::BadSignal`].
pub fn parse_signal(s: &str) -> Result<String, BuildError> {
    let bad = || BuildError::BadSignal {
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

fn parse_path(option: &'static str, s: &str) -> Result<ImagePath, BuildError> {
    ImagePath::parse(s).map_err(|source| BuildError::BadPath {
        option,
        value: s.to_owned(),
        source,
    })
}

/// Settings that come from the environment, read by the CLI and passed down.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub source_date_epoch: Option<String>,
    pub cache_dir: Option<PathBuf>,
}

impl BuildOptions {
    /// Validate every option into a [`BuildRequest`]. Nothing is read from disk here
    /// beyond what the options name; nothing is written.
    ///
    /// # Errors
    /// The first invalid option, named.
    pub fn into_request(self, env: &Environment) -> Result<BuildRequest, BuildError> {
        let entrypoint = self.entrypoint.ok_or(BuildError::NoEntrypoint)?;
        let name = entrypoint
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .unwrap_or("app")
            .to_owned();
        let dest = match &self.dest {
            Some(d) => parse_path("--dest", d)?,
            None => parse_path("--dest", &format!("/app/{name}"))?,
        };
        let user = parse_user(self.user.as_deref().unwrap_or("65532:65532"))?;
        if user.uid == 0 && !self.allow_root.unwrap_or(false) {
            return Err(BuildError::RootUser {
                value: self.user.unwrap_or_default(),
            });
        }
        let user_name = match self.user_name {
            Some(n) => {
                if n.is_empty()
                    || n.len() > 32
                    || !n
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
                    || n.starts_with('-')
                {
                    return Err(BuildError::BadKeyValue {
                        option: "--user-name",
                        value: n,
                    });
                }
                n
            }
            None => match user.uid {
                0 => "root".into(),
                65532 => "nonroot".into(),
                65534 => "nobody".into(),
                _ => "app".into(),
            },
        };
        let workdir = self
            .workdir
            .as_deref()
            .map(|w| parse_path("--workdir", w))
            .transpose()?;
        let mut env_vars = Vec::new();
        for e in self.env.unwrap_or_default() {
            let (k, v) = parse_key_value("--env", &e)?;
            env_vars.push((k, v));
        }
        let kv_map = |opt: &'static str,
                      v: Option<Vec<String>>|
         -> Result<BTreeMap<String, String>, BuildError> {
            v.unwrap_or_default()
                .iter()
                .map(|s| parse_key_value(opt, s))
                .collect()
        };
        let labels = kv_map("--label", self.labels)?;
        let annotations = kv_map("--annotation", self.annotations)?;
        let mut expose: Vec<Port> = self
            .expose
            .unwrap_or_default()
            .iter()
            .map(|p| parse_port(p))
            .collect::<Result<_, _>>()?;
        expose.sort();
        expose.dedup();
        let files = self
            .files
            .unwrap_or_default()
            .iter()
            .map(|f| parse_file_spec(f))
            .collect::<Result<Vec<_>, _>>()?;
        let stop_signal = self.stop_signal.as_deref().map(parse_signal).transpose()?;
        let healthcheck = match self.healthcheck {
            Some(h) if h.is_empty() || h[0].is_empty() => {
                return Err(BuildError::BadKeyValue {
                    option: "--healthcheck",
                    value: String::new(),
                });
            }
            h => h,
        };
        let compression = parse_compression(self.compression.as_deref().unwrap_or("gzip"))?;
        let ca_certs = match self.ca_certs.as_deref() {
            None | Some("host") => CaCerts::Host,
            Some("none") => CaCerts::None,
            Some(p) => CaCerts::Path(PathBuf::from(p)),
        };
        let epoch = env
            .source_date_epoch
            .as_deref()
            .map(parse_epoch)
            .transpose()?
            .unwrap_or(0);
        Ok(BuildRequest {
            entrypoint,
            dest,
            args: self.args.unwrap_or_default(),
            cmd: self.cmd,
            files,
            user,
            user_name,
            workdir,
            env: env_vars,
            labels,
            annotations,
            expose,
            stop_signal,
            healthcheck,
            tags: self.tags.unwrap_or_default(),
            compression,
            ca_certs,
            libraries: self.libraries.unwrap_or(true),
            nss: self.nss.unwrap_or(true),
            passwd: self.passwd.unwrap_or(true),
            tmp: self.tmp.unwrap_or(true),
            tzdata: self.tzdata.unwrap_or(false),
            epoch,
            cache_dir: env.cache_dir.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users() {
        assert_eq!(
            parse_user("1000").unwrap(),
            User {
                uid: 1000,
                gid: 1000
            }
        );
        assert_eq!(
            parse_user("1000:2000").unwrap(),
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
            assert!(parse_user(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("443").unwrap().0, "443/tcp");
        assert_eq!(parse_port("53/UDP").unwrap().0, "53/udp");
        for bad in ["", "0", "65536", "80/icmp", "http", "-1", "80/", "0080000"] {
            assert!(parse_port(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_specs() {
        let f = parse_file_spec("a.crt:/srv/a.crt:0444:1000:1000").unwrap();
        assert_eq!(f.dest.as_str(), "/srv/a.crt");
        assert_eq!(f.mode, Some(0o444));
        assert_eq!(
            f.owner,
            Some(User {
                uid: 1000,
                gid: 1000
            })
        );
        assert!(parse_file_spec("dir:/srv/").unwrap().into_dir);
        for bad in [
            "a",
            "a:rel",
            ":/x",
            "a:/x:9",
            "a:/x:0644:1",
            "a:/../x",
            "a:/x:0644:u:g",
        ] {
            assert!(parse_file_spec(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signals_and_compression() {
        assert_eq!(parse_signal("term").unwrap(), "SIGTERM");
        assert_eq!(parse_signal("SIGRTMIN+3").unwrap(), "SIGRTMIN+3");
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("0").is_err());
        assert!(matches!(
            parse_compression("zstd:19").unwrap(),
            Compression::Zstd { level: 19 }
        ));
        assert!(parse_compression("brotli").is_err());
        assert!(parse_compression("gzip:0").is_err());
    }

    #[test]
    fn toml_unknown_key_is_named() {
        let err = BuildOptions::from_toml_str("entrypoint = \"x\"\nusr = \"1\"\n").unwrap_err();
        assert!(err.contains("usr"), "{err}");
        let ok =
            BuildOptions::from_toml_str("user = \"1000:1000\"\nexpose = [\"443/tcp\"]\n").unwrap();
        assert_eq!(ok.user.as_deref(), Some("1000:1000"));
    }

    #[test]
    fn root_needs_allow_root() {
        let o = BuildOptions {
            entrypoint: Some("x".into()),
            user: Some("0".into()),
            ..Default::default()
        };
        assert!(matches!(
            o.clone().into_request(&Environment::default()),
            Err(BuildError::RootUser { .. })
        ));
        let o = BuildOptions {
            allow_root: Some(true),
            ..o
        };
        assert_eq!(o.into_request(&Environment::default()).unwrap().user.uid, 0);
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

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(s in ".*") {
            let _ = parse_user(&s);
            let _ = parse_port(&s);
            let _ = parse_file_spec(&s);
            let _ = parse_signal(&s);
            let _ = parse_compression(&s);
            let _ = parse_mode(&s);
        }
    }
}
