//! What a Cargo build for another target needs from the host, decided before Cargo runs:
//! the target's Rust standard library (`rustc --print target-libdir`), and a linker for
//! it. Rust links through `cc`, which makes host objects, so a cross target whose
//! `CARGO_TARGET_<TRIPLE>_LINKER` is not set (in the environment, a Cargo config file or
//! `-C linker=` in RUSTFLAGS) gets Debian's cross gcc for that architecture when it is
//! installed (`aarch64-linux-gnu-gcc` from gcc-aarch64-linux-gnu for
//! `aarch64-unknown-linux-gnu` and `aarch64-unknown-linux-musl`); when it is not, the
//! error says which package to install. The OCI architecture of each triple lets the
//! options refuse two targets for one platform before anything is built.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{BuildError, Environment};

/// One CPU family: the triple's first component (and, for 32-bit ARM, its ABI), its OCI
/// architecture, and Debian's cross gcc for it.
struct Arch {
    /// Whether a triple's first component names this family.
    matches: fn(&str, &str) -> bool,
    oci: &'static str,
    /// Debian's cross compiler (`<gnu triplet>-gcc`) and its package.
    gcc: &'static str,
    package: &'static str,
}

const ARCHES: &[Arch] = &[
    Arch {
        matches: |cpu, _| cpu == "x86_64",
        oci: "amd64",
        gcc: "x86_64-linux-gnu-gcc",
        package: "gcc-x86-64-linux-gnu",
    },
    Arch {
        matches: |cpu, _| cpu == "aarch64",
        oci: "arm64",
        gcc: "aarch64-linux-gnu-gcc",
        package: "gcc-aarch64-linux-gnu",
    },
    Arch {
        matches: |cpu, _| matches!(cpu, "i686" | "i586" | "i386"),
        oci: "386",
        gcc: "i686-linux-gnu-gcc",
        package: "gcc-i686-linux-gnu",
    },
    Arch {
        matches: |cpu, abi| cpu.starts_with("arm") && abi.ends_with("hf"),
        oci: "arm",
        gcc: "arm-linux-gnueabihf-gcc",
        package: "gcc-arm-linux-gnueabihf",
    },
    Arch {
        matches: |cpu, _| cpu.starts_with("arm"),
        oci: "arm",
        gcc: "arm-linux-gnueabi-gcc",
        package: "gcc-arm-linux-gnueabi",
    },
    Arch {
        matches: |cpu, _| cpu == "powerpc64le",
        oci: "ppc64le",
        gcc: "powerpc64le-linux-gnu-gcc",
        package: "gcc-powerpc64le-linux-gnu",
    },
    Arch {
        matches: |cpu, _| cpu == "s390x",
        oci: "s390x",
        gcc: "s390x-linux-gnu-gcc",
        package: "gcc-s390x-linux-gnu",
    },
    Arch {
        matches: |cpu, _| cpu.starts_with("riscv64"),
        oci: "riscv64",
        gcc: "riscv64-linux-gnu-gcc",
        package: "gcc-riscv64-linux-gnu",
    },
];

/// The family of a Linux target triple (`aarch64-unknown-linux-gnu`); none for a triple
/// of another OS or an architecture husk has no platform for.
fn arch_of(triple: &str) -> Option<&'static Arch> {
    let mut parts = triple.split('-');
    let cpu = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    if !rest.contains(&"linux") {
        return None;
    }
    let abi = rest.last().copied().unwrap_or("");
    ARCHES.iter().find(|a| (a.matches)(cpu, abi))
}

/// The OCI architecture of a Linux target triple (`arm64` for `aarch64-unknown-linux-gnu`).
#[must_use]
pub fn oci_architecture(triple: &str) -> Option<&'static str> {
    arch_of(triple).map(|a| a.oci)
}

/// The environment variable Cargo reads a target's linker from:
/// `CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER`.
#[must_use]
pub fn linker_var(triple: &str) -> String {
    let upper: String = triple
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("CARGO_TARGET_{upper}_LINKER")
}

/// The linker husk sets for one Cargo run: `(variable, program)`.
pub type Linker = (String, OsString);

/// What the host says about linkers, so [`cross_linker`] is a pure decision.
pub struct LinkerFacts<'a> {
    /// The host's target triple.
    pub host: &'a str,
    /// Whether the user configured a linker for the target already (environment, Cargo
    /// config, RUSTFLAGS).
    pub configured: bool,
    /// Whether a program runs (`<gcc> --version` succeeds).
    pub runs: &'a dyn Fn(&str) -> bool,
}

/// The linker to set for `triple`: none for a host-architecture target, a target of an
/// unknown family, or one whose linker the user configured; Debian's cross gcc when it
/// is installed.
///
/// # Errors
/// [`BuildError::CrossLinkerMissing`] naming the package to install and the variable to
/// set instead.
pub fn cross_linker(triple: &str, facts: &LinkerFacts<'_>) -> Result<Option<Linker>, BuildError> {
    let (Some(arch), host) = (arch_of(triple), arch_of(facts.host)) else {
        return Ok(None);
    };
    if host.is_some_and(|h| h.oci == arch.oci) || facts.configured {
        return Ok(None);
    }
    if !(facts.runs)(arch.gcc) {
        return Err(BuildError::CrossLinkerMissing {
            target: triple.to_owned(),
            gcc: arch.gcc,
            package: arch.package,
            var: linker_var(triple),
        });
    }
    Ok(Some((linker_var(triple), arch.gcc.into())))
}

/// Whether `program --version` runs.
#[must_use]
pub fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the user set a linker for `triple`: its `CARGO_TARGET_<TRIPLE>_LINKER`, a
/// `-C linker=` in RUSTFLAGS, or `target.<triple>.linker` in a Cargo config file Cargo
/// reads from `cwd` (every `.cargo/config[.toml]` up the tree, then `$CARGO_HOME`'s).
#[must_use]
pub fn linker_configured(triple: &str, cwd: &Path, env: &Environment) -> bool {
    let var = linker_var(triple);
    if env.target_linkers.contains(&var) {
        return true;
    }
    if env
        .rustflags
        .as_deref()
        .is_some_and(|f| f.contains("linker="))
    {
        return true;
    }
    config_files(cwd, env.cargo_home.as_deref())
        .iter()
        .any(|file| config_sets_linker(file, triple))
}

/// The Cargo config files Cargo reads when run in `cwd`.
fn config_files(cwd: &Path, cargo_home: Option<&Path>) -> Vec<PathBuf> {
    let cwd = std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let dirs = cwd
        .ancestors()
        .map(|d| d.join(".cargo"))
        .chain(cargo_home.map(Path::to_path_buf));
    let mut files = Vec::new();
    for dir in dirs {
        for name in ["config.toml", "config"] {
            let file = dir.join(name);
            if file.is_file() {
                files.push(file);
            }
        }
    }
    files
}

/// Whether a Cargo config file sets `target.<triple>.linker`.
fn config_sets_linker(file: &Path, triple: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(file) else {
        return false;
    };
    let Ok(doc) = toml::from_str::<toml::Table>(&text) else {
        return false;
    };
    doc.get("target")
        .and_then(|t| t.get(triple))
        .and_then(|t| t.get("linker"))
        .is_some()
}

/// The rustc Cargo runs (`$RUSTC`, else `rustc`).
fn rustc(env: &Environment) -> OsString {
    env.rustc.clone().unwrap_or_else(|| "rustc".into())
}

/// The host's target triple, from `rustc -vV`.
///
/// # Errors
/// [`BuildError::Cargo`] when rustc cannot run or prints no host line.
pub fn host_triple(env: &Environment) -> Result<String, BuildError> {
    let out = Command::new(rustc(env))
        .arg("-vV")
        .output()
        .map_err(|source| BuildError::Cargo {
            message: format!("cannot run rustc -vV to learn the host target: {source}"),
        })?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| BuildError::Cargo {
            message: "rustc -vV printed no host line".into(),
        })
}

/// Where rustc looks for `triple`'s standard library, when it is not there: the
/// directory `rustc --print target-libdir --target TRIPLE` names, without any `libstd-*`.
/// None when it is installed, or when rustc cannot say (Cargo then reports it).
#[must_use]
pub fn missing_std(triple: &str, env: &Environment) -> Option<PathBuf> {
    let out = Command::new(rustc(env))
        .args(["--print", "target-libdir", "--target", triple])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let has_std = std::fs::read_dir(&dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    });
    (!has_std).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        host: &'a str,
        configured: bool,
        runs: &'a dyn Fn(&str) -> bool,
    ) -> LinkerFacts<'a> {
        LinkerFacts {
            host,
            configured,
            runs,
        }
    }

    #[test]
    fn triples_name_their_oci_architecture() {
        for (triple, arch) in [
            ("x86_64-unknown-linux-gnu", Some("amd64")),
            ("x86_64-unknown-linux-musl", Some("amd64")),
            ("aarch64-unknown-linux-gnu", Some("arm64")),
            ("aarch64-unknown-linux-musl", Some("arm64")),
            ("i686-unknown-linux-gnu", Some("386")),
            ("armv7-unknown-linux-gnueabihf", Some("arm")),
            ("arm-unknown-linux-gnueabi", Some("arm")),
            ("powerpc64le-unknown-linux-gnu", Some("ppc64le")),
            ("s390x-unknown-linux-gnu", Some("s390x")),
            ("riscv64gc-unknown-linux-gnu", Some("riscv64")),
            ("aarch64-apple-darwin", None),
            ("x86_64-pc-windows-gnu", None),
            ("wasm32-unknown-unknown", None),
            ("", None),
            ("-linux-", None),
        ] {
            assert_eq!(oci_architecture(triple), arch, "{triple}");
        }
    }

    #[test]
    fn the_linker_variable_is_cargos() {
        assert_eq!(
            linker_var("aarch64-unknown-linux-gnu"),
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"
        );
        assert_eq!(
            linker_var("thumbv7em-none-eabi.x"),
            "CARGO_TARGET_THUMBV7EM_NONE_EABI_X_LINKER"
        );
    }

    #[test]
    fn a_cross_target_gets_debians_cross_gcc() {
        let all = |_: &str| true;
        let host = "x86_64-unknown-linux-gnu";
        let l = cross_linker("aarch64-unknown-linux-gnu", &facts(host, false, &all)).unwrap();
        assert_eq!(
            l,
            Some((
                "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER".into(),
                "aarch64-linux-gnu-gcc".into()
            ))
        );
        // musl on arm64 links with the same cross gcc.
        let l = cross_linker("aarch64-unknown-linux-musl", &facts(host, false, &all)).unwrap();
        assert_eq!(l.unwrap().1, OsString::from("aarch64-linux-gnu-gcc"));
        // The host's architecture (glibc or musl) needs none; nor does a configured one,
        // or a family husk does not know.
        for (triple, configured) in [
            ("x86_64-unknown-linux-gnu", false),
            ("x86_64-unknown-linux-musl", false),
            ("aarch64-unknown-linux-gnu", true),
            ("wasm32-unknown-unknown", false),
        ] {
            let l = cross_linker(triple, &facts(host, configured, &all)).unwrap();
            assert_eq!(l, None, "{triple}");
        }
        // On an arm64 host, amd64 is the cross target.
        let l = cross_linker(
            "x86_64-unknown-linux-gnu",
            &facts("aarch64-unknown-linux-gnu", false, &all),
        )
        .unwrap();
        assert_eq!(l.unwrap().1, OsString::from("x86_64-linux-gnu-gcc"));
    }

    #[test]
    fn a_missing_cross_gcc_says_what_to_install() {
        let none = |_: &str| false;
        let e = cross_linker(
            "armv7-unknown-linux-gnueabihf",
            &facts("x86_64-unknown-linux-gnu", false, &none),
        )
        .unwrap_err();
        let text = e.to_string();
        for part in [
            "armv7-unknown-linux-gnueabihf",
            "apt-get install gcc-arm-linux-gnueabihf",
            "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
    }

    #[test]
    fn a_linker_in_a_cargo_config_file_is_the_users() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("ws/pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::create_dir_all(dir.path().join("ws/.cargo")).unwrap();
        let env = Environment::default();
        assert!(!linker_configured("aarch64-unknown-linux-gnu", &pkg, &env));
        std::fs::write(
            dir.path().join("ws/.cargo/config.toml"),
            "[target.aarch64-unknown-linux-gnu]\nlinker = \"clang-arm\"\n",
        )
        .unwrap();
        assert!(linker_configured("aarch64-unknown-linux-gnu", &pkg, &env));
        assert!(!linker_configured(
            "riscv64gc-unknown-linux-gnu",
            &pkg,
            &env
        ));
        // Cargo's home, the environment and RUSTFLAGS count too; a broken file does not.
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join("config.toml"),
            "[target.riscv64gc-unknown-linux-gnu]\nlinker = \"x\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("ws/.cargo/config"), "not [ toml").unwrap();
        let env = Environment {
            cargo_home: Some(home),
            ..Environment::default()
        };
        assert!(linker_configured("riscv64gc-unknown-linux-gnu", &pkg, &env));
        let env = Environment {
            target_linkers: vec!["CARGO_TARGET_S390X_UNKNOWN_LINUX_GNU_LINKER".into()],
            ..Environment::default()
        };
        assert!(linker_configured("s390x-unknown-linux-gnu", &pkg, &env));
        let env = Environment {
            rustflags: Some("-C linker=my-cc".into()),
            ..Environment::default()
        };
        assert!(linker_configured("s390x-unknown-linux-gnu", &pkg, &env));
    }
}
