//! Language package data embedded in binaries:
//! - Rust: the zlib-compressed JSON crate list `cargo auditable` puts in `.dep-v0`, read
//!   with rust-secure-code's `auditable-info` under [`RUST_JSON_CAP`];
//! - Go: the build information of Go >= 1.18 binaries (`.go.buildinfo`: a 32-byte header
//!   `\xff Go buildinf:`, pointer size, flags with bit 2 for inline strings, then two
//!   uvarint-prefixed strings: the Go version and the module info, whose `path`, `mod`,
//!   `dep`, `=>` and `build` lines are tab-separated), parsed here with bounds checks.
//!   Older binaries (pointer-based header) are reported as having no build info.

use object::{Object as _, ObjectSection as _};

use crate::component::{Component, Ecosystem};
use crate::error::{Result, SbomError};

/// Largest decompressed cargo-auditable JSON read.
pub const RUST_JSON_CAP: usize = 8 << 20;
/// Largest Go build info section read.
const GO_SECTION_CAP: usize = 16 << 20;
const GO_MAGIC: &[u8] = b"\xff Go buildinf:";

/// The runtime crates of a binary built with `cargo auditable` (the root crate
/// included), sorted; empty when the binary has no `.dep-v0` data.
///
/// # Errors
/// [`SbomError::RustAudit`] when the data is present but corrupt or over the cap.
pub fn rust_crates(binary: &[u8], what: &str) -> Result<Vec<Component>> {
    use auditable_info::Error as E;
    let info = match auditable_info::audit_info_from_slice(binary, RUST_JSON_CAP) {
        Ok(info) => info,
        Err(E::NoAuditData) => return Ok(Vec::new()),
        Err(E::BinaryParsing(
            auditable_extract::Error::NoAuditData | auditable_extract::Error::NotAnExecutable,
        )) => return Ok(Vec::new()),
        Err(err) => {
            return Err(SbomError::RustAudit {
                what: what.to_owned(),
                reason: err.to_string(),
            });
        }
    };
    let mut crates: Vec<Component> = info
        .packages
        .iter()
        .filter(|p| p.kind == auditable_serde::DependencyKind::Runtime)
        .map(|p| Component::new(Ecosystem::Cargo, &p.name, &p.version.to_string()))
        .collect();
    crates.sort();
    crates.dedup();
    Ok(crates)
}

/// One Go module of a binary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoModule {
    /// Module path.
    pub path: String,
    /// Version (`(devel)` for a main module built from a working tree).
    pub version: String,
    /// `h1:` checksum when recorded.
    pub sum: Option<String>,
}

/// A Go binary's build information.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoBuildInfo {
    /// `go1.19.8`.
    pub go_version: String,
    /// The main package path.
    pub path: Option<String>,
    /// The main module.
    pub main: Option<GoModule>,
    /// Dependencies, replacements applied.
    pub deps: Vec<GoModule>,
    /// `build` settings (`-compiler`, `GOARCH`, `vcs.revision`, ...), in order.
    pub settings: Vec<(String, String)>,
}

impl GoBuildInfo {
    /// The modules as components: the main module (unless `(devel)`), the dependencies,
    /// and the standard library as `stdlib` at the Go version (as syft reports it).
    #[must_use]
    pub fn components(&self) -> Vec<Component> {
        let mut out: Vec<Component> = self
            .main
            .iter()
            .filter(|m| m.version != "(devel)")
            .chain(&self.deps)
            .map(|m| Component::new(Ecosystem::Golang, &m.path, &m.version))
            .collect();
        if let Some(v) = self.go_version.strip_prefix("go") {
            out.push(Component::new(
                Ecosystem::Golang,
                "stdlib",
                &format!("v{v}"),
            ));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Reads the build information of a Go ELF binary; `Ok(None)` when it is not an ELF
/// file, has no `.go.buildinfo` section or uses the pre-1.18 pointer format.
///
/// # Errors
/// [`SbomError::GoBuildInfo`] when the section is present but malformed.
pub fn go_build_info(binary: &[u8], what: &str) -> Result<Option<GoBuildInfo>> {
    let Ok(file) = object::File::parse(binary) else {
        return Ok(None);
    };
    let Some(section) = file.section_by_name(".go.buildinfo") else {
        return Ok(None);
    };
    let bad = |reason: &str| SbomError::GoBuildInfo {
        what: what.to_owned(),
        reason: reason.to_owned(),
    };
    let data = section
        .data()
        .map_err(|e| bad(&format!("section data: {e}")))?;
    if data.len() > GO_SECTION_CAP {
        return Err(bad("section larger than 16 MiB"));
    }
    parse_go_build_info(data).map_err(|r| bad(&r))
}

/// Parses the contents of a `.go.buildinfo` section.
///
/// # Errors
/// A description of what is malformed.
pub fn parse_go_build_info(data: &[u8]) -> Result<Option<GoBuildInfo>, String> {
    if data.len() < 32 || !data.starts_with(GO_MAGIC) {
        return Err("missing the `\\xff Go buildinf:` header".to_owned());
    }
    let flags = data[15];
    if flags & 2 == 0 {
        return Ok(None);
    }
    let mut rest = &data[32..];
    let version = utf8(read_bytes(&mut rest)?)?;
    let modinfo = utf8(strip_sentinels(read_bytes(&mut rest)?))?;
    let mut info = GoBuildInfo {
        go_version: version.to_owned(),
        ..GoBuildInfo::default()
    };
    parse_modinfo(modinfo, &mut info)?;
    Ok(Some(info))
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|_| "string is not UTF-8".to_owned())
}

fn read_bytes<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let mut len: u64 = 0;
    let mut shift = 0u32;
    loop {
        let (&byte, tail) = rest.split_first().ok_or("truncated length")?;
        *rest = tail;
        if shift > 63 {
            return Err("length varint too long".to_owned());
        }
        len |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let len = usize::try_from(len).map_err(|_| "length overflows")?;
    if len > rest.len() {
        return Err(format!("string of {len} bytes runs past the section end"));
    }
    let (s, tail) = rest.split_at(len);
    *rest = tail;
    Ok(s)
}

/// Module info is framed by two 16-byte binary sentinels when non-empty.
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    }
}

fn parse_modinfo(text: &str, info: &mut GoBuildInfo) -> Result<(), String> {
    let mut last_dep: Option<usize> = None;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut cols = line.split('\t');
        let kind = cols.next().unwrap_or("");
        let module = |mut cols: std::str::Split<'_, char>| -> Result<GoModule, String> {
            let path = cols
                .next()
                .filter(|p| !p.is_empty())
                .ok_or(format!("{kind} line without a module path"))?;
            Ok(GoModule {
                path: path.to_owned(),
                version: cols.next().unwrap_or("").to_owned(),
                sum: cols.next().filter(|s| !s.is_empty()).map(str::to_owned),
            })
        };
        match kind {
            "path" => info.path = cols.next().map(str::to_owned),
            "mod" => info.main = Some(module(cols)?),
            "dep" => {
                info.deps.push(module(cols)?);
                last_dep = Some(info.deps.len() - 1);
            }
            "=>" => {
                let replacement = module(cols)?;
                match last_dep {
                    Some(i) => info.deps[i] = replacement,
                    None => info.main = Some(replacement),
                }
            }
            "build" => {
                if let Some((k, v)) = cols.next().unwrap_or("").split_once('=') {
                    info.settings.push((k.to_owned(), v.to_owned()));
                }
            }
            _ => {}
        }
    }
    info.deps.sort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(version: &str, modinfo: &str) -> Vec<u8> {
        let mut data = GO_MAGIC.to_vec();
        data.extend([8u8, 2]);
        data.resize(32, 0);
        for s in [version, modinfo] {
            let mut n = s.len();
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                data.push(if n == 0 { byte } else { byte | 0x80 });
                if n == 0 {
                    break;
                }
            }
            data.extend(s.as_bytes());
        }
        data
    }

    #[test]
    fn parses_inline_build_info_with_replacements() {
        let sentinel = "0123456789abcdef"; // real ones are binary; see the host test
        let modinfo = format!(
            "{sentinel}path\texample.com/app\nmod\texample.com/app\t(devel)\t\n\
dep\tgolang.org/x/text\tv0.3.0\th1:abc=\n=>\tgolang.org/x/text\tv0.3.8\th1:def=\n\
dep\tgithub.com/a/b\tv1.0.0\th1:x=\nbuild\tGOARCH=amd64\n\n{sentinel}"
        );
        let info = parse_go_build_info(&section("go1.19.8", &modinfo))
            .unwrap()
            .unwrap();
        assert_eq!(info.go_version, "go1.19.8");
        assert_eq!(info.path.as_deref(), Some("example.com/app"));
        assert_eq!(info.deps[1].version, "v0.3.8");
        assert_eq!(info.settings, vec![("GOARCH".into(), "amd64".into())]);
        let purls: Vec<String> = info.components().iter().map(Component::purl).collect();
        assert_eq!(
            purls,
            [
                "pkg:golang/github.com/a/b@v1.0.0",
                "pkg:golang/golang.org/x/text@v0.3.8",
                "pkg:golang/stdlib@v1.19.8"
            ]
        );
    }

    #[test]
    fn hostile_sections_are_errors_not_panics() {
        assert!(parse_go_build_info(b"short").is_err());
        let mut data = section("go1.20", "");
        data.truncate(34);
        data[32] = 0xff;
        assert!(parse_go_build_info(&data).is_err());
        let mut huge = GO_MAGIC.to_vec();
        huge.extend([8u8, 2]);
        huge.resize(32, 0);
        huge.extend([0xff; 12]);
        assert!(parse_go_build_info(&huge).is_err());
        let mut old = section("x", "y");
        old[15] = 0;
        assert_eq!(parse_go_build_info(&old), Ok(None));
        assert_eq!(go_build_info(b"not elf", "x").unwrap(), None);
        assert!(rust_crates(b"not elf at all", "x").unwrap().is_empty());
    }
}
