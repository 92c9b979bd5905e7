//! Image rules, one per file, and the few helpers several of them share: what program the
//! container starts, and the dynamic loader's library search inside the image.

mod attack_tools;
mod device_nodes;
mod entrypoint_arch;
mod entrypoint_missing;
mod entrypoint_truncated;
mod file_capabilities;
mod healthcheck_program;
mod junk_files;
mod missing_library;
mod missing_script_interpreter;
mod no_healthcheck;
mod no_package_metadata;
mod no_tmp;
mod privileged_port;
mod root_user;
mod runtime_stdlib;
mod secret_env;
mod secrets;
mod setuid;
mod symbol_version;
mod tls_without_trust;
mod tz_without_zoneinfo;
mod unknown_user;
mod unusable_home;
mod user_not_numeric;
mod wasted_space;
mod workdir_unusable;
mod world_writable;

pub use attack_tools::AttackTools;
pub use device_nodes::DeviceNodes;
pub use entrypoint_arch::EntrypointArch;
pub use entrypoint_missing::EntrypointMissing;
pub use entrypoint_truncated::EntrypointTruncated;
pub use file_capabilities::FileCapabilities;
pub use healthcheck_program::HealthcheckProgram;
pub use junk_files::JunkFiles;
pub use missing_library::MissingLibrary;
pub use missing_script_interpreter::MissingScriptInterpreter;
pub use no_healthcheck::NoHealthcheck;
pub use no_package_metadata::NoPackageMetadata;
pub use no_tmp::NoTmp;
pub use privileged_port::PrivilegedPort;
pub use root_user::RootUser;
pub use runtime_stdlib::RuntimeStdlib;
pub use secret_env::SecretEnv;
pub use secrets::Secrets;
pub use setuid::Setuid;
pub use symbol_version::SymbolVersion;
pub use tls_without_trust::TlsWithoutTrust;
pub use tz_without_zoneinfo::TzWithoutZoneinfo;
pub use unknown_user::UnknownUser;
pub use unusable_home::UnusableHome;
pub use user_not_numeric::UserNotNumeric;
pub use wasted_space::WastedSpace;
pub use workdir_unusable::WorkdirUnusable;
pub use world_writable::WorldWritable;

use std::collections::{BTreeSet, VecDeque};

use husk_explore::Node;
use husk_layer::ImagePath;

use crate::facts::ImageFacts;

/// The program a container starts: argv[0] of Entrypoint + Cmd, and where it resolves.
pub(crate) struct Start<'a> {
    pub argv: Vec<String>,
    /// The resolved path and node, when argv[0] exists in the image.
    pub found: Option<(ImagePath, &'a Node)>,
    /// `/bin/sh -c ...`, what shell-form ENTRYPOINT/CMD compile to.
    pub shell_form: bool,
}

pub(crate) fn start(image: &ImageFacts) -> Option<Start<'_>> {
    let argv = image.argv();
    let argv0 = argv.first()?.clone();
    let found = image
        .find_program(&argv0, &image.path_var(), &image.workdir())
        .and_then(|p| image.files.get(&p).map(|e| (p, e)));
    let shell_form =
        matches!(argv0.as_str(), "/bin/sh" | "sh") && argv.get(1).is_some_and(|a| a == "-c");
    Some(Start {
        argv,
        found,
        shell_form,
    })
}

/// Most `#!` scripts one `execve` goes through. The kernel (fs/exec.c, `exec_binprm`)
/// runs its format handlers at most 6 times per `execve`: 5 scripts and the program at
/// their end run; a 6th script whose interpreter exists fails with `ELOOP`.
pub(crate) const MAX_SHEBANG_DEPTH: usize = 5;

/// One file of the start chain: argv[0], then each interpreter the kernel opens.
pub(crate) struct Link<'a> {
    pub path: ImagePath,
    pub node: &'a Node,
    /// Reached as `#!/usr/bin/env NAME`'s NAME: env runs it with a new `execve`.
    pub via_env: bool,
    /// The kernel loads this file as a program (it is not a script): the last file of
    /// its `execve`, or the `env` of a `#!/usr/bin/env NAME` line.
    pub loaded: bool,
}

/// How the start chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Break {
    /// The last link's `#!` line names an interpreter that is not in the image (`ENOENT`).
    Missing(String),
    /// The last link is `env`, and the NAME it is given is not in the image's PATH (env
    /// exits 127). `spaced`: the kernel passed `NAME ARGS` as one argument.
    EnvMissing { prog: String, spaced: bool },
    /// The last link's `#!` line names no interpreter (`ENOEXEC`).
    NoInterpreter,
    /// More scripts than the kernel follows (`ELOOP`); `looped` when the chain comes
    /// back to a file it went through (the last link), so it never ends.
    TooDeep { looped: bool },
}

/// The start chain: what the kernel opens, in order, and where it breaks.
pub(crate) struct Chain<'a> {
    /// argv[0] first; never empty.
    pub links: Vec<Link<'a>>,
    pub broken: Option<Break>,
}

impl<'a> Chain<'a> {
    /// `/s0 -> /s1 -> /missing`: the links, and the missing name.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.links.iter().map(|l| l.path.to_string()).collect();
        match &self.broken {
            Some(Break::Missing(name)) => {
                parts.push(format!("{name:?}").trim_matches('"').to_owned())
            }
            Some(Break::EnvMissing { prog, .. }) => parts.push(prog.clone()),
            _ => {}
        }
        parts.join(" -> ")
    }

    /// The program the kernel runs in the end, when the chain does not break.
    pub fn end(&self) -> Option<&Link<'a>> {
        self.links.last().filter(|_| self.broken.is_none())
    }
}

/// Where the kernel's `open_exec` finds an interpreter: an absolute path, or one
/// relative to the working directory (`..` taken lexically).
fn open_exec<'a>(image: &'a ImageFacts, name: &str) -> Option<(ImagePath, &'a Node)> {
    let joined = if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("{}/{name}", image.workdir().trim_end_matches('/'))
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    image.lookup(&format!("/{}", parts.join("/")))
}

/// The chain of files the kernel goes through to start the container: argv[0], its `#!`
/// interpreter, that one's, ... (the kernel splits a `#!` line once, at the first space
/// or tab: the interpreter, then everything else as one argument), and for
/// `#!/usr/bin/env NAME` NAME through PATH, as env runs it (a new `execve`, which starts
/// counting [`MAX_SHEBANG_DEPTH`] again). `None` when argv[0] is not in the image
/// (HUSK-I004). A file whose content was not read ends the chain without a verdict.
pub(crate) fn start_chain(image: &ImageFacts) -> Option<Chain<'_>> {
    let (path, node) = start(image)?.found?;
    let mut links = vec![Link {
        path,
        node,
        via_env: false,
        loaded: false,
    }];
    let mut scripts = 0;
    let broken = loop {
        let last = links.last()?;
        let Some(line) = image
            .content_of(last.node)
            .filter(|_| last.node.is_file())
            .and_then(|c| c.shebang.as_deref())
        else {
            break None;
        };
        scripts += 1;
        let (interp, arg) = match line.split_once([' ', '\t']) {
            Some((i, a)) => (i, a.trim_matches([' ', '\t'])),
            None => (line, ""),
        };
        if interp.is_empty() {
            break Some(Break::NoInterpreter);
        }
        let Some((next, node)) = open_exec(image, interp) else {
            // `..` after a symlink is not lexical: no verdict then.
            if interp.split('/').any(|p| p == "..") {
                break None;
            }
            break Some(Break::Missing(interp.to_owned()));
        };
        if scripts > MAX_SHEBANG_DEPTH {
            break Some(Break::TooDeep { looped: false });
        }
        // A script met again (env's program is not a script, and may come back).
        let looped = links.iter().any(|l| l.path == next && !l.loaded);
        let env = interp.ends_with("/env") && !arg.is_empty() && !looped;
        links.push(Link {
            path: next,
            node,
            via_env: false,
            loaded: env,
        });
        if looped {
            break Some(Break::TooDeep { looped: true });
        }
        if !env {
            continue;
        }
        if let Err(broken) = follow_env(image, arg, &mut links) {
            break broken;
        }
        scripts = 0;
    };
    if broken.is_none()
        && let Some(l) = links.last_mut()
    {
        l.loaded = true;
    }
    Some(Chain { links, broken })
}

/// `#!/usr/bin/env ARG`: env runs NAME with execvp (a new execve), appended to `links`.
/// `Err(None)`: no verdict (only options); `Err(Some(_))`: where the chain breaks.
fn follow_env<'a>(
    image: &'a ImageFacts,
    arg: &str,
    links: &mut Vec<Link<'a>>,
) -> Result<(), Option<Break>> {
    let (prog, spaced) = if arg.starts_with('-') {
        // Options (`-S`/`--split-string` splits the rest): the first word that is not one.
        match arg.split_whitespace().find(|w| !w.starts_with('-')) {
            Some(p) => (p, false),
            None => return Err(None),
        }
    } else {
        (arg, arg.contains([' ', '\t']))
    };
    let Some((p, n)) = image
        .find_program(prog, &image.path_var(), &image.workdir())
        .and_then(|p| image.files.get(&p).map(|n| (p, n)))
    else {
        return Err(Some(Break::EnvMissing {
            prog: prog.to_owned(),
            spaced,
        }));
    };
    let looped = links.iter().any(|l| l.path == p && !l.loaded);
    links.push(Link {
        path: p,
        node: n,
        via_env: true,
        loaded: false,
    });
    if looped {
        return Err(Some(Break::TooDeep { looped: true }));
    }
    Ok(())
}

/// The program the kernel runs in the end: argv[0], or for a script its `#!` interpreter
/// (and `#!/usr/bin/env NAME`'s NAME through PATH), followed as [`start_chain`] does.
/// `None` when the chain breaks (HUSK-I004 and HUSK-I007 report why).
pub(crate) fn start_program(image: &ImageFacts) -> Option<(ImagePath, &Node)> {
    let chain = start_chain(image)?;
    let end = chain.end()?;
    Some((end.path.clone(), end.node))
}

/// The program a container starts (a script's interpreter, see [`start_program`]), when
/// it exists in the image and is an ELF file that parses: its path, its entry and the
/// loader's view of it.
pub(crate) fn start_elf(image: &ImageFacts) -> Option<(ImagePath, &Node, &husk_elf::ElfInfo)> {
    let (path, e) = start_program(image)?;
    let Some(Ok(elf)) = image.content_of(e).and_then(|c| c.elf.as_ref()) else {
        return None;
    };
    Some((path, e, elf))
}

/// The Debian multiarch directory name for an OCI architecture.
fn triplet(arch: &str) -> &'static str {
    match arch {
        "amd64" => "x86_64-linux-gnu",
        "arm64" => "aarch64-linux-gnu",
        "386" => "i386-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        "ppc64le" => "powerpc64le-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        "riscv64" => "riscv64-linux-gnu",
        _ => "unknown",
    }
}

/// Directories from /etc/ld.so.conf and the files it includes, read from the image.
fn ld_so_conf_dirs(image: &ImageFacts) -> Vec<String> {
    let mut out = Vec::new();
    let mut files = vec!["/etc/ld.so.conf".to_owned()];
    if let Ok(conf_d) = ImagePath::parse("/etc/ld.so.conf.d") {
        files.extend(
            image
                .files
                .walk(&conf_d)
                .skip(1)
                .filter(|(p, _)| p.as_str().ends_with(".conf"))
                .map(|(p, _)| p.to_string()),
        );
    }
    for f in files {
        if let Some(b) = image.bytes(&f) {
            for line in String::from_utf8_lossy(b).lines() {
                let l = line.split('#').next().unwrap_or_default().trim();
                if l.starts_with('/') {
                    out.push(l.to_owned());
                }
            }
        }
    }
    out
}

/// Where the loader finds `needed` for an object at `object_path` with these search
/// paths, or `None`. See [`search_library`].
pub(crate) fn find_library(
    image: &ImageFacts,
    needed: &str,
    object_path: &str,
    rpath: &[String],
    runpath: &[String],
) -> Option<String> {
    search_library(image, needed, object_path, rpath, runpath, None).found
}

/// What one library search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// The first candidate that is a regular file the loader accepts.
    pub found: Option<String>,
    /// Candidates that exist but are ELF files for another architecture (the loader
    /// skips them and goes on searching).
    pub wrong_arch: Vec<String>,
}

/// The directories the loader searches for the dependencies of an object, in glibc's
/// order: DT_RPATH (only without DT_RUNPATH), `LD_LIBRARY_PATH` from the config's Env,
/// DT_RUNPATH, then (the image's ld.so.cache is consulted by [`search_library`] here)
/// ld.so.conf directories and the default and multiarch directories.
fn search_dirs(
    image: &ImageFacts,
    object_path: &str,
    rpath: &[String],
    runpath: &[String],
) -> (Vec<String>, Vec<String>) {
    let origin = object_path.rsplit_once('/').map_or("/", |(d, _)| d);
    let origin = if origin.is_empty() { "/" } else { origin };
    let expand = |d: &String| {
        d.replace("${ORIGIN}", origin)
            .replace("$ORIGIN", origin)
            .replace("${LIB}", "lib64")
            .replace("$LIB", "lib64")
    };
    let mut before: Vec<String> = Vec::new();
    if runpath.is_empty() {
        before.extend(rpath.iter().map(expand));
    }
    if let Some(lp) = image.env("LD_LIBRARY_PATH") {
        before.extend(
            lp.split([':', ';'])
                .filter(|d| d.starts_with('/'))
                .map(str::to_owned),
        );
    }
    before.extend(runpath.iter().map(expand));
    let t = triplet(&image.config.architecture);
    let mut after = ld_so_conf_dirs(image);
    after.extend([
        format!("/lib/{t}"),
        format!("/usr/lib/{t}"),
        "/lib64".into(),
        "/usr/lib64".into(),
        "/lib".into(),
        "/usr/lib".into(),
        "/usr/local/lib".into(),
    ]);
    (before, after)
}

/// Search `needed` the way the loader does for an object at `object_path` (see
/// [`search_dirs`]; a name with a `/` is taken as is). With `want`, a candidate that is an
/// ELF file of another class or machine is skipped and remembered, as glibc does.
pub(crate) fn search_library(
    image: &ImageFacts,
    needed: &str,
    object_path: &str,
    rpath: &[String],
    runpath: &[String],
    want: Option<&husk_elf::ElfInfo>,
) -> Lookup {
    let mut out = Lookup::default();
    let mut accept = |p: &str| -> bool {
        if !image.is_file(p) {
            return false;
        }
        let other = image.content(p).and_then(|c| c.elf.as_ref());
        match (want, other) {
            (Some(w), Some(Ok(o))) if !w.same_target(o) => {
                out.wrong_arch.push(format!("{p} ({})", o.arch));
                false
            }
            _ => true,
        }
    };
    if needed.contains('/') {
        if accept(needed) {
            out.found = Some(needed.to_owned());
        }
        return out;
    }
    let (before, after) = search_dirs(image, object_path, rpath, runpath);
    let joined = |d: &String| format!("{}/{needed}", d.trim_end_matches('/'));
    let cached = image_ld_cache(image, needed);
    let found = before
        .iter()
        .map(joined)
        .chain(cached)
        .chain(after.iter().map(joined))
        .find(|p| accept(p));
    out.found = found;
    out
}

/// The paths the image's own /etc/ld.so.cache gives for `needed` (for the image's
/// architecture), best first.
fn image_ld_cache(image: &ImageFacts, needed: &str) -> Vec<String> {
    let Some(cache) = image
        .bytes("/etc/ld.so.cache")
        .and_then(husk_elf::LdCache::parse)
    else {
        return Vec::new();
    };
    let arch = match image.config.architecture.as_str() {
        "amd64" => husk_elf::Arch::Amd64,
        "arm64" => husk_elf::Arch::Arm64,
        "386" => husk_elf::Arch::I386,
        "arm" => husk_elf::Arch::Arm,
        "ppc64le" => husk_elf::Arch::Ppc64le,
        "s390x" => husk_elf::Arch::S390x,
        "riscv64" => husk_elf::Arch::Riscv64,
        _ => return Vec::new(),
    };
    cache
        .lookup(needed, arch)
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

/// One DT_NEEDED edge of a program's library closure.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    /// The object whose DT_NEEDED names the library.
    pub from: String,
    pub needed: String,
    pub lookup: Lookup,
}

/// The DT_NEEDED closure of the ELF object at `path`, breadth first, each library name
/// searched once (from the first object that needs it), as the loader loads it.
pub(crate) fn closure(image: &ImageFacts, path: &str, elf: &husk_elf::ElfInfo) -> Vec<Edge> {
    let mut queue = VecDeque::from([(path.to_owned(), elf.clone())]);
    let mut seen = BTreeSet::new();
    let mut edges = Vec::new();
    while let Some((obj, info)) = queue.pop_front() {
        for needed in &info.needed {
            if !seen.insert(needed.clone()) {
                continue;
            }
            let lookup = search_library(image, needed, &obj, &info.rpath, &info.runpath, Some(elf));
            if let Some(lib) = &lookup.found
                && let Some(Ok(li)) = image.content(lib).and_then(|c| c.elf.as_ref())
            {
                queue.push_back((lib.clone(), li.clone()));
            }
            edges.push(Edge {
                from: obj.clone(),
                needed: needed.clone(),
                lookup,
            });
        }
    }
    edges
}
