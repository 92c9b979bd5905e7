//! Image rules, one per file, and the few helpers several of them share: what program the
//! container starts, and the dynamic loader's library search inside the image.

mod attack_tools;
mod device_nodes;
mod entrypoint_arch;
mod entrypoint_missing;
mod healthcheck_program;
mod junk_files;
mod missing_library;
mod missing_script_interpreter;
mod no_healthcheck;
mod no_package_metadata;
mod no_tmp;
mod privileged_port;
mod root_user;
mod secret_env;
mod secrets;
mod setuid;
mod tls_without_trust;
mod unknown_user;
mod unusable_home;
mod user_not_numeric;
mod wasted_space;
mod world_writable;

pub use attack_tools::AttackTools;
pub use device_nodes::DeviceNodes;
pub use entrypoint_arch::EntrypointArch;
pub use entrypoint_missing::EntrypointMissing;
pub use healthcheck_program::HealthcheckProgram;
pub use junk_files::JunkFiles;
pub use missing_library::MissingLibrary;
pub use missing_script_interpreter::MissingScriptInterpreter;
pub use no_healthcheck::NoHealthcheck;
pub use no_package_metadata::NoPackageMetadata;
pub use no_tmp::NoTmp;
pub use privileged_port::PrivilegedPort;
pub use root_user::RootUser;
pub use secret_env::SecretEnv;
pub use secrets::Secrets;
pub use setuid::Setuid;
pub use tls_without_trust::TlsWithoutTrust;
pub use unknown_user::UnknownUser;
pub use unusable_home::UnusableHome;
pub use user_not_numeric::UserNotNumeric;
pub use wasted_space::WastedSpace;
pub use world_writable::WorldWritable;

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

/// The program a container starts, when it exists in the image and is an ELF file that
/// parses: its path, its entry and the loader's view of it.
pub(crate) fn start_elf(image: &ImageFacts) -> Option<(ImagePath, &Node, &husk_elf::ElfInfo)> {
    let (path, e) = start(image)?.found?;
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
/// paths, or `None`. Follows glibc's order: DT_RPATH (only without DT_RUNPATH),
/// DT_RUNPATH, ld.so.conf directories, then the default and multiarch directories.
pub(crate) fn find_library(
    image: &ImageFacts,
    needed: &str,
    object_path: &str,
    rpath: &[String],
    runpath: &[String],
) -> Option<String> {
    let is_file = |p: &str| image.is_file(p);
    if needed.contains('/') {
        return is_file(needed).then(|| needed.to_owned());
    }
    let origin = object_path.rsplit_once('/').map_or("/", |(d, _)| d);
    let expand = |d: &String| {
        d.replace("${ORIGIN}", origin)
            .replace("$ORIGIN", origin)
            .replace("${LIB}", "lib64")
            .replace("$LIB", "lib64")
    };
    let t = triplet(&image.config.architecture);
    let mut dirs: Vec<String> = Vec::new();
    if runpath.is_empty() {
        dirs.extend(rpath.iter().map(expand));
    }
    dirs.extend(runpath.iter().map(expand));
    dirs.extend(ld_so_conf_dirs(image));
    dirs.extend([
        format!("/lib/{t}"),
        format!("/usr/lib/{t}"),
        "/lib64".into(),
        "/usr/lib64".into(),
        "/lib".into(),
        "/usr/lib".into(),
        "/usr/local/lib".into(),
    ]);
    dirs.iter()
        .map(|d| format!("{}/{needed}", d.trim_end_matches('/')))
        .find(|p| is_file(p))
}
