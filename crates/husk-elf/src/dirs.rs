//! The loader's vocabulary for search paths: dynamic string tokens (`$ORIGIN`, `$LIB`,
//! `$PLATFORM`, `man 8 ld.so` "Dynamic string tokens") and the built-in default
//! directories of glibc (Debian multiarch first, then lib64/lib32 layouts) and musl
//! (`/etc/ld-musl-$ARCH.path`, else `/lib:/usr/local/lib:/usr/lib`).

use std::path::{Path, PathBuf};

use crate::elf::Arch;
use crate::fs::{HostFs, MAX_CONFIG_BYTES};

/// Values for the DSTs other than `$ORIGIN`; `None` means "not supported here".
#[derive(Debug, Clone, Default)]
pub(crate) struct DstValues {
    pub(crate) lib: Option<String>,
    pub(crate) platform: Option<&'static str>,
}

/// Expands `$ORIGIN`, `$LIB`, `$PLATFORM` (also `${...}`) in `s`; `None` when a token has
/// no value (glibc then drops the entry). Unknown `$NAME`s stay literal, and a token
/// must end at a non-identifier character (`$ORIGINX` is not `$ORIGIN`).
pub(crate) fn expand_dst(s: &str, origin: Option<&Path>, vals: &DstValues) -> Option<String> {
    if !s.contains('$') {
        return Some(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (token, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        let value: Option<String> = match token {
            "ORIGIN" => Some(origin?.to_string_lossy().into_owned()),
            "LIB" => Some(vals.lib.clone()?),
            "PLATFORM" => Some(vals.platform?.to_owned()),
            _ => None,
        };
        match value {
            Some(v) => {
                out.push_str(&v);
                rest = &after[consumed..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The musl search path for `arch`: `/etc/ld-musl-<arch>.path` if the host has one.
pub(crate) fn musl_default_dirs(fs: &dyn HostFs, arch: Arch) -> Vec<PathBuf> {
    let name = match arch {
        Arch::Amd64 => "x86_64",
        Arch::Arm64 => "aarch64",
        Arch::I386 => "i386",
        Arch::Arm => "armhf",
        Arch::Ppc64le => "powerpc64le",
        Arch::S390x => "s390x",
        Arch::Riscv64 => "riscv64",
        Arch::Other(_) => "",
    };
    if !name.is_empty()
        && let Ok(bytes) = fs.read_limited(
            &PathBuf::from(format!("/etc/ld-musl-{name}.path")),
            MAX_CONFIG_BYTES,
        )
    {
        let text = String::from_utf8_lossy(&bytes);
        return text
            .split(['\n', ':'])
            .map(str::trim)
            .filter(|d| d.starts_with('/'))
            .map(PathBuf::from)
            .collect();
    }
    ["/lib", "/usr/local/lib", "/usr/lib"]
        .iter()
        .map(PathBuf::from)
        .collect()
}

/// The Debian multiarch triplet of an architecture.
pub(crate) fn multiarch_triplet(arch: Arch) -> Option<&'static str> {
    Some(match arch {
        Arch::Amd64 => "x86_64-linux-gnu",
        Arch::Arm64 => "aarch64-linux-gnu",
        Arch::I386 => "i386-linux-gnu",
        Arch::Arm => "arm-linux-gnueabihf",
        Arch::Ppc64le => "powerpc64le-linux-gnu",
        Arch::S390x => "s390x-linux-gnu",
        Arch::Riscv64 => "riscv64-linux-gnu",
        Arch::Other(_) => return None,
    })
}

/// `AT_PLATFORM` as the kernel reports it, where it does not depend on the CPU model.
pub(crate) fn platform(arch: Arch) -> Option<&'static str> {
    match arch {
        Arch::Amd64 => Some("x86_64"),
        Arch::Arm64 => Some("aarch64"),
        Arch::I386 => Some("i686"),
        Arch::Arm => Some("v7l"),
        _ => None,
    }
}

/// glibc's built-in system directories: Debian multiarch first, then the lib64/lib32
/// layouts of other distributions, then `/lib` and `/usr/lib`.
pub(crate) fn glibc_default_dirs(arch: Arch, class64: bool) -> Vec<PathBuf> {
    let mut dirs: Vec<String> = Vec::new();
    if let Some(t) = multiarch_triplet(arch) {
        dirs.push(format!("/lib/{t}"));
        dirs.push(format!("/usr/lib/{t}"));
    }
    match arch {
        Arch::I386 => dirs.extend(["/lib32".into(), "/usr/lib32".into()]),
        Arch::Riscv64 => dirs.extend(["/lib64/lp64d".into(), "/usr/lib64/lp64d".into()]),
        Arch::Arm => {}
        Arch::Other(62) if !class64 => dirs.extend(["/libx32".into(), "/usr/libx32".into()]),
        _ if class64 => dirs.extend(["/lib64".into(), "/usr/lib64".into()]),
        _ => {}
    }
    dirs.extend(["/lib".into(), "/usr/lib".into()]);
    dirs.into_iter().map(PathBuf::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals() -> DstValues {
        DstValues {
            lib: Some("lib/x86_64-linux-gnu".into()),
            platform: Some("x86_64"),
        }
    }

    #[test]
    fn expands_tokens_in_both_spellings() {
        let o = Some(Path::new("/opt/app/bin"));
        let e = |s| expand_dst(s, o, &vals());
        assert_eq!(e("$ORIGIN/../lib").as_deref(), Some("/opt/app/bin/../lib"));
        assert_eq!(
            e("${ORIGIN}/x:$LIB").as_deref(),
            Some("/opt/app/bin/x:lib/x86_64-linux-gnu")
        );
        assert_eq!(
            e("/p/$PLATFORM/${PLATFORM}").as_deref(),
            Some("/p/x86_64/x86_64")
        );
        assert_eq!(
            e("/a/$ORIGINX/$FOO/${BAR}/$").as_deref(),
            Some("/a/$ORIGINX/$FOO/${BAR}/$")
        );
        assert_eq!(e("/a/${ORIGIN").as_deref(), Some("/a/${ORIGIN"));
        assert_eq!(e("/plain").as_deref(), Some("/plain"));
    }

    #[test]
    fn missing_values_drop_the_entry() {
        assert_eq!(expand_dst("$ORIGIN/lib", None, &vals()), None);
        assert_eq!(
            expand_dst("/x/$PLATFORM", None, &DstValues::default()),
            None
        );
        assert_eq!(expand_dst("/x/$LIB", None, &DstValues::default()), None);
    }

    #[test]
    fn default_dirs_per_arch() {
        let d = glibc_default_dirs(Arch::Amd64, true);
        assert_eq!(d[0], Path::new("/lib/x86_64-linux-gnu"));
        assert!(d.contains(&PathBuf::from("/usr/lib64")));
        assert_eq!(
            glibc_default_dirs(Arch::Arm64, true)[1],
            Path::new("/usr/lib/aarch64-linux-gnu")
        );
        assert!(glibc_default_dirs(Arch::I386, false).contains(&PathBuf::from("/lib32")));
        assert!(!glibc_default_dirs(Arch::I386, false).contains(&PathBuf::from("/lib64")));
        assert_eq!(
            musl_default_dirs(&crate::FakeFs::new(), Arch::Amd64),
            [
                PathBuf::from("/lib"),
                PathBuf::from("/usr/local/lib"),
                PathBuf::from("/usr/lib")
            ]
        );
        let mut fs = crate::FakeFs::new();
        fs.add_file("/etc/ld-musl-x86_64.path", "/opt/l\n/usr/lib:relative\n");
        assert_eq!(
            musl_default_dirs(&fs, Arch::Amd64),
            [PathBuf::from("/opt/l"), PathBuf::from("/usr/lib")]
        );
    }
}
