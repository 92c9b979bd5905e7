//! The build pipeline: validated request -> three file plans (system files, shared
//! libraries, application) -> deterministic layers -> an [`OwnedImage`].
//!
//! Layer order is chosen for reuse: system files change least, then libraries, then the
//! app, so an app-only change leaves the first two layers' digests (and the registry's
//! copies) untouched.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use husk_elf::{Arch, HostEntry, HostFs, Resolver, materialize};
use husk_layer::{
    Entry, EntryKind, FileSource, ImagePath, LayerPlan, MODE_DATA, MODE_EXEC, WriteOptions,
    WrittenLayer, policy_mode, write_layer,
};
use husk_oci::spec::{EmptyObject, RuntimeConfig};
use husk_oci::{BlobData, Digest, Image, ImageConfig, NewLayer, OwnedImage, Platform};

use crate::options::BuildRequest;
use crate::packages::{Documents, Packages, plan_packages, sbom_documents};
use crate::trace::{TraceSummary, Traced};
use crate::values::{CaCerts, FileSpec};
use crate::{BuildError, sysfiles, time, trace};

/// Where the CA bundle goes, the path Go, OpenSSL, rustls-native-certs and curl look first
/// on Debian-style systems.
pub const CA_BUNDLE_PATH: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The host's CA bundle used by default.
pub const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The host's time zone database used by `--tzdata`.
pub const HOST_ZONEINFO: &str = "/usr/share/zoneinfo";
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One layer of a built image, for the summary.
#[derive(Debug, Clone)]
pub struct LayerSummary {
    pub what: String,
    pub digest: Digest,
    pub size: u64,
    pub entries: usize,
    pub reused: bool,
}

/// What a build produced, for the CLI's summary line.
#[derive(Debug, Clone)]
pub struct Summary {
    pub digest: Digest,
    pub platform: Platform,
    pub layers: Vec<LayerSummary>,
    pub files: usize,
    pub compressed_size: u64,
    pub user: String,
    pub entrypoint: Vec<String>,
    /// Image paths of the shared libraries (and loader) added.
    pub libraries: Vec<String>,
    /// What `--trace` added and skipped (none without it).
    pub trace: Option<TraceSummary>,
    /// Debian packages that supplied the image's host files (0 when not looked up).
    pub packages: usize,
    /// Whether their records (status.d, OS identity) were written into the image.
    pub package_db: bool,
}

/// A built image. The layer blobs live in a temporary directory owned by this value.
pub struct BuildOutput {
    pub image: OwnedImage,
    pub summary: Summary,
    /// The traced runs (exit, output) and what they needed, for `--check` and
    /// `--trace-report`.
    pub traced: Option<Traced>,
    /// The SBOM documents `--sbom` asked for, as (file name, bytes).
    pub sbom: Documents,
    _work: tempfile::TempDir,
}

impl BuildOutput {
    /// The image, its summary, its SBOM documents and the directory holding its layer
    /// blobs (which must live as long as the image is read).
    pub(crate) fn into_parts(self) -> (OwnedImage, Summary, Documents, tempfile::TempDir) {
        (self.image, self.summary, self.sbom, self._work)
    }
}

/// The file plans of an image, before any layer is written: system files, libraries,
/// traced files (empty without `--trace`) and the application.
#[derive(Debug, Default)]
pub struct Plans {
    pub system: LayerPlan,
    pub libraries: LayerPlan,
    pub traced: LayerPlan,
    pub app: LayerPlan,
    pub arch: Option<Arch>,
    pub library_paths: Vec<String>,
    /// The traced runs, and the summary of what they added.
    pub trace: Option<(Traced, TraceSummary)>,
    /// What the package phase found (none when neither records nor an SBOM are wanted).
    pub packages: Option<Packages>,
}

impl Plans {
    /// The four file plans in layer order: system, libraries, traced, app.
    #[must_use]
    pub fn layers(&self) -> [&LayerPlan; 4] {
        [&self.system, &self.libraries, &self.traced, &self.app]
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Bytes of an ELF file header (64 for ELF64, 52 for ELF32).
const ELF_HEADER_BYTES: usize = 64;

/// Read the first bytes of a host file (enough for ELF and `#!` detection).
pub(crate) fn head(path: &Path, n: usize) -> Result<Vec<u8>, std::io::Error> {
    let mut buf = Vec::with_capacity(n);
    std::fs::File::open(path)?
        .take(n as u64)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// The interpreter of a `#!` script, if `bytes` start with one.
fn shebang(bytes: &[u8]) -> Option<String> {
    let rest = bytes.strip_prefix(b"#!")?;
    let line = rest.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim();
    line.split_whitespace().next().map(str::to_owned)
}

/// Plan every file of the image.
///
/// # Errors
/// Unreadable or non-ELF entrypoint, a script without its interpreter, mixed architectures,
/// a library that cannot be resolved, plan conflicts, a missing CA bundle or tzdata.
pub fn plan(req: &BuildRequest, fs: &dyn HostFs) -> Result<Plans, BuildError> {
    let mut plans = Plans::default();
    let mut traced = match &req.trace {
        Some(spec) => Some(trace::run(req, spec, &config_env(req))?),
        None => None,
    };
    let entry_head = plan_app(req, &mut plans.app, traced.as_ref())?;
    let mut elf_roots = elf_files(&plans.app);
    if let Some(t) = &traced {
        for root in trace::program_roots(&t.needed) {
            if !elf_roots.contains(&root) {
                elf_roots.push(root);
            }
        }
    }
    let arch = image_arch(req, &entry_head, &elf_roots)?;
    check_platform(req, arch)?;
    plans.arch = Some(arch);
    if req.contents.libraries && !elf_roots.is_empty() {
        let roots = elf_roots.iter().map(|(_, host)| host.clone()).collect();
        let rooted = req
            .target
            .sysroot_for(arch)
            .map(|dir| husk_elf::RootedFs::new(dir, roots));
        let lib_fs: &dyn HostFs = match &rooted {
            Some(r) => r,
            None => fs,
        };
        plan_libraries(req, lib_fs, &elf_roots, &mut plans)
            .map_err(|e| foreign_libraries(req, arch, rooted.as_ref(), e))?;
    }
    plan_system(req, &mut plans)?;
    if let Some(mut t) = traced.take() {
        let summary = trace::plan_traced(&mut t, &mut plans)?;
        plans.trace = Some((t, summary));
    }
    plan_packages(req, &mut plans)?;
    check_cross_layer(&plans)?;
    check_generated(&plans)?;
    inherit_parent_dirs(&mut plans)?;
    Ok(plans)
}

/// The application layer: the entrypoint and the `--file`s. Returns the entrypoint's
/// first bytes (for ELF and `#!` detection). A traced entrypoint that lands at its own
/// host path is left to the traced layer, which has it with the symlinks on the way.
fn plan_app(
    req: &BuildRequest,
    app: &mut LayerPlan,
    traced: Option<&Traced>,
) -> Result<Vec<u8>, BuildError> {
    if std::fs::metadata(&req.entrypoint).is_ok_and(|m| !m.is_file()) {
        return Err(BuildError::NotExecutable {
            path: req.entrypoint.clone(),
        });
    }
    let entry_head =
        head(&req.entrypoint, 4096).map_err(|source| BuildError::EntrypointUnreadable {
            path: req.entrypoint.clone(),
            source,
        })?;
    // Found as named, or as the file at the end of its symlinks (`/bin/sh`, with `/bin`
    // a symlink, is only there as `/usr/bin/dash`).
    let in_trace = traced.is_some_and(|t| {
        let canonical = std::fs::canonicalize(&req.entrypoint).ok();
        req.dest.to_string() == req.entrypoint.to_string_lossy()
            && (t.needed.entries.contains_key(&req.entrypoint)
                || canonical.is_some_and(|c| t.needed.entries.contains_key(&c)))
    });
    if !in_trace {
        app.add(
            req.dest.clone(),
            Entry::file(FileSource::Host(req.entrypoint.clone()), MODE_EXEC),
        )?;
    }
    for spec in &req.contents.files {
        plan_file(spec, app)?;
    }
    Ok(entry_head)
}

/// One `--file`: a host file, or a host directory's tree.
fn plan_file(spec: &FileSpec, app: &mut LayerPlan) -> Result<(), BuildError> {
    let meta = std::fs::metadata(&spec.src).map_err(io_err(&spec.src))?;
    let name = spec.src.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let dest = if spec.into_dir && !name.is_empty() {
        spec.dest
            .join(name)
            .map_err(|source| BuildError::FileDest {
                src: spec.src.clone(),
                dest: spec.dest.clone(),
                source,
            })?
    } else {
        spec.dest.clone()
    };
    let (uid, gid) = spec.owner.map_or((0, 0), |o| (o.uid, o.gid));
    if meta.is_dir() {
        app.add_host_tree(&spec.src, dest, spec.mode, uid, gid)?;
    } else {
        let mode = spec
            .mode
            .unwrap_or_else(|| policy_mode(mode_of(&meta), false));
        app.add(
            dest,
            Entry::file(FileSource::Host(spec.src.clone()), mode).owned_by(uid, gid),
        )?;
    }
    Ok(())
}

/// ELF files among what the app layer holds: (image path, host path).
fn elf_files(app: &LayerPlan) -> Vec<(ImagePath, PathBuf)> {
    let mut elf_roots = Vec::new();
    for (path, entry) in app.iter() {
        if let Some(FileSource::Host(host)) = &entry.source
            && head(host, 4).is_ok_and(|h| husk_elf::is_elf(&h))
        {
            elf_roots.push((path.clone(), host.clone()));
        }
    }
    elf_roots
}

/// The image's platform: the entrypoint's (or its script interpreter's) architecture,
/// which every other ELF program of the app layer must share. Only ELF headers are read
/// here: the resolver parses each program whole once, later.
fn image_arch(
    req: &BuildRequest,
    entry_head: &[u8],
    elf_roots: &[(ImagePath, PathBuf)],
) -> Result<Arch, BuildError> {
    let header = |host: &Path| -> Result<husk_elf::ElfInfo, BuildError> {
        let bytes = head(host, ELF_HEADER_BYTES).map_err(io_err(host))?;
        Ok(husk_elf::parse_header(&bytes, host)?)
    };
    let entry_arch = if husk_elf::is_elf(entry_head) {
        husk_elf::parse_header(entry_head, &req.entrypoint)?.arch
    } else if let Some(interp) = shebang(entry_head) {
        let Some((_, host)) = elf_roots.iter().find(|(p, _)| p.as_str() == interp) else {
            return Err(BuildError::ScriptWithoutInterpreter {
                path: req.entrypoint.clone(),
                interpreter: interp,
            });
        };
        header(host)?.arch
    } else {
        return Err(BuildError::NotExecutable {
            path: req.entrypoint.clone(),
        });
    };
    for (_, host) in elf_roots {
        let info = header(host)?;
        if info.arch != entry_arch && !matches!(info.object_type, husk_elf::ObjectType::Relocatable)
        {
            return Err(BuildError::MixedArch {
                path: host.clone(),
                found: info.arch.to_string(),
                expected: entry_arch.to_string(),
            });
        }
    }
    Ok(entry_arch)
}

/// The platform named for the program (if any) must be the one its ELF header says.
fn check_platform(req: &BuildRequest, arch: Arch) -> Result<(), BuildError> {
    match &req.target.expected {
        Some(_) if matches!(arch, Arch::Other(_)) => Err(BuildError::UnsupportedMachine {
            path: req.entrypoint.clone(),
        }),
        Some(said) if !crate::platforms::platform_is(said, arch) => {
            Err(BuildError::PlatformMismatch {
                path: req.entrypoint.clone(),
                said: said.to_string(),
                found: format!(
                    "linux/{}{}",
                    arch.oci_architecture(),
                    arch.oci_variant()
                        .map(|v| format!("/{v}"))
                        .unwrap_or_default()
                ),
            })
        }
        _ => Ok(()),
    }
}

/// A library of a program for another machine than husk's own (or in a sysroot) that
/// cannot be found: say where it was looked for and how to provide it.
fn foreign_libraries(
    req: &BuildRequest,
    arch: Arch,
    rooted: Option<&husk_elf::RootedFs>,
    err: BuildError,
) -> BuildError {
    let BuildError::Elf(source) = err else {
        return err;
    };
    let missing = matches!(
        source,
        husk_elf::ElfError::LibraryNotFound { .. } | husk_elf::ElfError::InterpreterNotFound { .. }
    );
    let host = arch.oci_architecture() == husk_oci::host_platform().architecture;
    let platform = format!("linux/{}", arch.oci_architecture());
    let (place, fix) = match rooted {
        Some(r) if missing => (
            format!("the sysroot {}", r.root().display()),
            format!(
                "point --sysroot {platform}=DIR (or sysroot in its [[platform]]) at a root filesystem for {platform} that has them"
            ),
        ),
        None if missing && !host => {
            let deb = debian_arch(arch);
            (
                format!("this host's {deb} multiarch directories"),
                format!(
                    "install them (dpkg --add-architecture {deb} && apt-get update && apt-get install libc6:{deb} and the program's other libraries for {deb}), or give --sysroot {platform}=DIR"
                ),
            )
        }
        _ => return BuildError::Elf(source),
    };
    BuildError::ForeignLibraries {
        platform,
        path: req.entrypoint.clone(),
        hint: Box::new((place, fix)),
        source: Box::new(source),
    }
}

/// Debian's name of an architecture (dpkg --print-architecture).
fn debian_arch(arch: Arch) -> &'static str {
    match arch {
        Arch::I386 => "i386",
        Arch::Arm => "armhf",
        Arch::Ppc64le => "ppc64el",
        Arch::Amd64 => "amd64",
        Arch::Arm64 => "arm64",
        Arch::S390x => "s390x",
        Arch::Riscv64 => "riscv64",
        Arch::Other(_) => "unknown",
    }
}

fn static_path(s: &str) -> ImagePath {
    ImagePath::parse(s).expect("static image paths are valid")
}

/// The system layer: users, /tmp, the workdir, the CA bundle, tzdata.
fn plan_system(req: &BuildRequest, plans: &mut Plans) -> Result<(), BuildError> {
    if req.contents.passwd {
        plan_users(req, &mut plans.system)?;
    }
    if req.contents.tmp {
        let mut e = Entry::dir();
        e.mode = 0o1777;
        plans.system.add(static_path("/tmp"), e)?;
    }
    if let Some(w) = &req.config.workdir
        && plans.app.get(w).is_none()
        && plans.system.get(w).is_none()
    {
        plans.system.add(w.clone(), Entry::dir())?;
    }
    match &req.contents.ca_certs {
        CaCerts::None => {}
        CaCerts::Host => {
            let host = Path::new(HOST_CA_BUNDLE);
            if !host.exists() {
                return Err(BuildError::NoHostCaBundle {
                    path: host.to_path_buf(),
                });
            }
            add_ca(&mut plans.system, host)?;
        }
        CaCerts::File(path) => add_ca(&mut plans.system, path)?,
    }
    if req.contents.tzdata {
        let zi = Path::new(HOST_ZONEINFO);
        if !zi.is_dir() {
            return Err(BuildError::NoTzdata {
                path: zi.to_path_buf(),
            });
        }
        plans
            .system
            .add_host_tree(zi, static_path(HOST_ZONEINFO), Some(MODE_DATA), 0, 0)?;
    }
    Ok(())
}

/// /etc/passwd, /etc/group, /etc/nsswitch.conf and the user's home.
fn plan_users(req: &BuildRequest, system: &mut LayerPlan) -> Result<(), BuildError> {
    let bytes = |s: String| FileSource::Bytes(Arc::from(s.into_bytes()));
    system.add(
        static_path("/etc/passwd"),
        Entry::file(
            bytes(sysfiles::passwd(req.config.user, &req.config.user_name)),
            MODE_DATA,
        ),
    )?;
    system.add(
        static_path("/etc/group"),
        Entry::file(
            bytes(sysfiles::group(req.config.user, &req.config.user_name)),
            MODE_DATA,
        ),
    )?;
    system.add(
        static_path("/etc/nsswitch.conf"),
        Entry::file(bytes(sysfiles::nsswitch().into()), MODE_DATA),
    )?;
    if let Some(home) = sysfiles::home_of(req.config.user, &req.config.user_name) {
        let mut e = Entry::dir().owned_by(req.config.user.uid, req.config.user.gid);
        e.mode = 0o700;
        system.add(static_path(&home), e)?;
    }
    Ok(())
}

/// The library layer: the loader, the DT_NEEDED closure of every ELF file the app layer
/// holds, and the NSS modules, each at the path the loader will open.
fn plan_libraries(
    req: &BuildRequest,
    fs: &dyn HostFs,
    elf_roots: &[(ImagePath, PathBuf)],
    plans: &mut Plans,
) -> Result<(), BuildError> {
    let resolver = Resolver::new(fs);
    let roots: Vec<PathBuf> = elf_roots.iter().map(|(_, h)| h.clone()).collect();
    let closure = resolver.closure(&roots)?;
    let nss = if req.contents.nss {
        resolver.nss_modules(&closure, &["files", "dns"])?
    } else {
        Vec::new()
    };
    // (host path, found through $ORIGIN)
    let mut host_paths: Vec<(PathBuf, bool)> = closure
        .interpreter
        .iter()
        .map(|p| (p.clone(), false))
        .collect();
    host_paths.extend(
        closure
            .libraries
            .iter()
            .chain(&nss)
            .map(|l| (l.path.clone(), l.found_via.origin_relative())),
    );
    // A library found through $ORIGIN of an app file lives next to it on the host;
    // in the image it must sit at the same place relative to where that file lands.
    // (Only those: a library found otherwise keeps its host path, wherever it lies.)
    let origin_map: Vec<(PathBuf, ImagePath)> = elf_roots
        .iter()
        .filter_map(|(img, host)| Some((host.parent()?.to_path_buf(), img.parent()?)))
        .collect();
    for (host, via_origin) in &host_paths {
        if let Some(image_path) = via_origin.then(|| mapped(&origin_map, host)).flatten() {
            let on_host = fs.host_path(host);
            let canonical = std::fs::canonicalize(&on_host).map_err(io_err(&on_host))?;
            let meta = std::fs::metadata(&canonical).map_err(io_err(&canonical))?;
            plans.libraries.add(
                image_path.clone(),
                Entry::file(
                    FileSource::Host(canonical),
                    policy_mode(mode_of(&meta), false),
                ),
            )?;
            plans.library_paths.push(image_path.to_string());
            continue;
        }
        plans.library_paths.push(host.display().to_string());
        for e in materialize(fs, host)? {
            match e {
                HostEntry::Symlink { path, target } => {
                    plans.libraries.add(
                        host_image_path(&path)?,
                        Entry::symlink(target.to_string_lossy().into_owned()),
                    )?;
                }
                HostEntry::File { path } => {
                    let on_host = fs.host_path(&path);
                    let meta = std::fs::metadata(&on_host).map_err(io_err(&on_host))?;
                    plans.libraries.add(
                        host_image_path(&path)?,
                        Entry::file(
                            FileSource::Host(on_host),
                            policy_mode(mode_of(&meta), false),
                        ),
                    )?;
                }
            }
        }
    }
    link_cache_only_libraries(fs, &closure, &nss, plans)?;
    plans.library_paths.sort();
    plans.library_paths.dedup();
    Ok(())
}

/// The image has no ld.so.cache, so a library that only the host's cache (or ld.so.conf)
/// found, outside the loader's default directories, would not be found at run time. Each
/// such library also gets its DT_NEEDED name in libc's own directory, which the loader
/// always searches, as a symlink to where it lies.
fn link_cache_only_libraries(
    fs: &dyn HostFs,
    closure: &husk_elf::Closure,
    nss: &[husk_elf::ResolvedLib],
    plans: &mut Plans,
) -> Result<(), BuildError> {
    let canonical_dir =
        |p: &Path| husk_elf::canonicalize(fs, p).unwrap_or_else(|_| p.to_path_buf());
    // libc's directory (glibc), else the loader's (musl's loader is its libc).
    let Some(libc_dir) = closure
        .libraries
        .iter()
        .find(|l| l.name == "libc.so.6")
        .map(|l| l.path.clone())
        .or_else(|| closure.interpreter.clone())
        .and_then(|p| canonical_dir(&p).parent().map(Path::to_path_buf))
    else {
        return Ok(());
    };
    let mut defaults = vec![libc_dir.clone()];
    defaults.extend(
        ["/lib", "/usr/lib", "/lib64", "/usr/lib64"]
            .iter()
            .map(|d| canonical_dir(Path::new(d))),
    );
    for lib in closure.libraries.iter().chain(nss) {
        if lib.found_via != husk_elf::FoundVia::Cache || lib.name.contains('/') {
            continue;
        }
        let Some(dir) = lib.path.parent() else {
            continue;
        };
        if defaults.contains(&canonical_dir(dir)) {
            continue;
        }
        let link = host_image_path(&libc_dir.join(&lib.name))?;
        if plans.libraries.get(&link).is_none() {
            plans.libraries.add(
                link,
                Entry::symlink(lib.path.to_string_lossy().into_owned()),
            )?;
        }
    }
    Ok(())
}

fn add_ca(plan: &mut LayerPlan, path: &Path) -> Result<(), BuildError> {
    // Read through to validate that it is a PEM bundle; symlinks (the host's usual layout)
    // are followed so the image gets the content.
    let mut text = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(64 << 20).read_to_end(&mut text))
        .map_err(io_err(path))?;
    if !text
        .windows(27)
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(BuildError::BadCaBundle {
            path: path.to_path_buf(),
        });
    }
    plan.add(
        ImagePath::parse(CA_BUNDLE_PATH).expect("static path"),
        Entry::file(FileSource::Bytes(Arc::from(text)), MODE_DATA),
    )?;
    Ok(())
}

/// A later layer may not put a file below a path an earlier layer made a symlink or a
/// file: engines would resolve or replace it differently.
fn check_cross_layer(plans: &Plans) -> Result<(), BuildError> {
    let lower = [&plans.system, &plans.libraries, &plans.traced];
    for (i, upper) in [&plans.libraries, &plans.traced, &plans.app]
        .into_iter()
        .enumerate()
    {
        for (path, entry) in upper.iter() {
            for plan in &lower[..=i] {
                for anc in path.ancestors() {
                    if let Some(e) = plan.get(&anc)
                        && !matches!(e.kind, EntryKind::Dir)
                    {
                        return Err(BuildError::Plan(husk_layer::PlanError::Conflict {
                            path: path.clone(),
                            existing: e.to_string(),
                            new: format!("{entry} below it in a later layer"),
                        }));
                    }
                }
            }
        }
    }
    Ok(())
}

/// A later layer may not replace what the system layer writes (the users, /tmp, the CA
/// bundle, ...): a file over `/tmp` or a `--file` at `/etc/passwd` would silently undo
/// it. A directory there is fine when it is the same directory.
fn check_generated(plans: &Plans) -> Result<(), BuildError> {
    for upper in [&plans.libraries, &plans.traced, &plans.app] {
        for (path, entry) in upper.iter() {
            let Some(generated) = plans.system.get(path) else {
                continue;
            };
            let same_dir = entry.kind.is_dir()
                && generated.kind.is_dir()
                && (entry.mode, entry.uid, entry.gid)
                    == (generated.mode, generated.uid, generated.gid);
            if !same_dir {
                return Err(BuildError::ReplacesGenerated {
                    path: path.clone(),
                    generated: generated.to_string(),
                    new: entry.to_string(),
                    fix: generated_fix(path),
                });
            }
        }
    }
    Ok(())
}

/// How to place a file where husk writes one itself.
fn generated_fix(path: &ImagePath) -> &'static str {
    match path.as_str() {
        "/tmp" => "put files inside it (--file SRC:/tmp/), or pass --no-tmp to leave /tmp out",
        "/etc/passwd" | "/etc/group" | "/etc/nsswitch.conf" => {
            "pass --no-passwd to ship your own /etc/passwd, /etc/group and /etc/nsswitch.conf"
        }
        CA_BUNDLE_PATH => "give it with --ca-certs FILE instead",
        p if p.starts_with(HOST_ZONEINFO) => "drop --tzdata to ship your own time zone data",
        p if p.starts_with("/etc/") || p.starts_with("/usr/lib/os-release") => {
            "place it elsewhere, or pass --no-package-db to leave out the OS identity files"
        }
        _ => "place it below that directory instead, or give it the same mode and owner",
    }
}

/// A directory a later layer creates only as the parent of its entries is written with
/// the default mode and owner, which would replace, in the merged view, a directory an
/// earlier layer made (/tmp's 1777, the home owned by the user). Each such parent takes
/// the nearest earlier layer's directory instead.
fn inherit_parent_dirs(plans: &mut Plans) -> Result<(), BuildError> {
    let mut inherited: [Vec<(ImagePath, Entry)>; 3] = Default::default();
    {
        let layers = [&plans.system, &plans.libraries, &plans.traced, &plans.app];
        for (i, upper) in layers.iter().enumerate().skip(1) {
            let mut seen = std::collections::BTreeSet::new();
            for (path, _) in upper.iter() {
                for anc in path.ancestors() {
                    if upper.get(&anc).is_some() || !seen.insert(anc.clone()) {
                        continue;
                    }
                    let lower = layers[..i].iter().rev().find_map(|l| l.get(&anc));
                    if let Some(dir) = lower.filter(|e| e.kind.is_dir()) {
                        inherited[i - 1].push((anc, dir.clone()));
                    }
                }
            }
        }
    }
    let [libraries, traced, app] = inherited;
    for (plan, dirs) in [
        (&mut plans.libraries, libraries),
        (&mut plans.traced, traced),
        (&mut plans.app, app),
    ] {
        for (path, dir) in dirs {
            plan.add(path, dir)?;
        }
    }
    Ok(())
}

fn mapped(map: &[(PathBuf, ImagePath)], host: &Path) -> Option<ImagePath> {
    map.iter().find_map(|(hdir, idir)| {
        let rel = host.strip_prefix(hdir).ok()?;
        let rel = rel.to_str()?;
        idir.join(rel).ok()
    })
}

fn host_image_path(path: &Path) -> Result<ImagePath, BuildError> {
    let s = path.to_string_lossy();
    ImagePath::parse(&s).map_err(|source| BuildError::LibraryPath {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

/// Build the image `req` describes.
///
/// # Errors
/// Any planning error (see [`plan`]) or a layer write error. Nothing is written outside a
/// private temporary directory.
pub fn build(req: &BuildRequest, fs: &dyn HostFs) -> Result<BuildOutput, BuildError> {
    let mut plans = plan(req, fs)?;
    let arch = plans.arch.expect("plan sets the architecture");
    let work = tempfile::Builder::new()
        .prefix("husk-build-")
        .tempdir()
        .map_err(io_err(&std::env::temp_dir()))?;
    let opts = WriteOptions {
        mtime: req.encoding.epoch,
        compression: req.encoding.compression,
        cache_dir: req.encoding.cache_dir.clone(),
        ..WriteOptions::default()
    };
    let written = write_layers(layer_jobs(req, &plans), &opts, work.path())?;
    let (config, user, entrypoint) = image_config(req, arch);
    let platform = config.platform();
    let image = OwnedImage::assemble(config, written.layers, req.config.annotations.clone());
    let digest = image.digest().map_err(BuildError::Assemble)?;
    let compressed_size = written.summaries.iter().map(|l| l.size).sum();
    let (traced, trace_summary) = plans.trace.take().unzip();
    let sbom = if req.encoding.sbom.any() {
        let name = req.tags.first().map_or("image", String::as_str);
        sbom_documents(
            &plans,
            req.encoding.sbom,
            name,
            &digest.to_string(),
            req.encoding.epoch,
        )?
    } else {
        Vec::new()
    };
    Ok(BuildOutput {
        image,
        sbom,
        summary: Summary {
            digest,
            platform,
            layers: written.summaries,
            files: written.files,
            compressed_size,
            user,
            entrypoint,
            libraries: plans.library_paths.clone(),
            trace: trace_summary,
            packages: plans.packages.as_ref().map_or(0, |p| p.count),
            package_db: plans.packages.as_ref().is_some_and(|p| p.recorded),
        },
        traced,
        _work: work,
    })
}

/// The layers to write, each with its history line: each one that has entries (the
/// application's even when empty, when it would be the only one).
fn layer_jobs<'p>(req: &BuildRequest, plans: &'p Plans) -> Vec<(String, &'p LayerPlan)> {
    let mut jobs: Vec<(String, &LayerPlan)> = Vec::new();
    if !plans.system.is_empty() {
        jobs.push((
            "husk build: system files (passwd, group, nsswitch.conf, CA bundle, /tmp)".into(),
            &plans.system,
        ));
    }
    if !plans.libraries.is_empty() {
        jobs.push((
            format!(
                "husk build: shared libraries ({} resolved for {})",
                plans.library_paths.len(),
                req.dest
            ),
            &plans.libraries,
        ));
    }
    if !plans.traced.is_empty() {
        jobs.push((
            format!(
                "husk build: traced files ({} entries the traced runs of {} needed)",
                plans.traced.len(),
                req.dest
            ),
            &plans.traced,
        ));
    }
    if !plans.app.is_empty() || jobs.is_empty() {
        jobs.push((format!("husk build: application {}", req.dest), &plans.app));
    }
    jobs
}

/// The written layers, their summaries and the number of entries in all.
struct Written {
    layers: Vec<NewLayer>,
    summaries: Vec<LayerSummary>,
    files: usize,
}

/// Write every layer into `dir`, in parallel (layers are independent).
fn write_layers(
    jobs: Vec<(String, &LayerPlan)>,
    opts: &WriteOptions,
    dir: &Path,
) -> Result<Written, BuildError> {
    let results: Vec<Result<WrittenLayer, husk_layer::LayerError>> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(_, plan)| s.spawn(move || write_layer(plan, opts, dir)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("layer writer thread does not panic"))
            .collect()
    });
    let mut out = Written {
        layers: Vec::new(),
        summaries: Vec::new(),
        files: 0,
    };
    for ((what, _), w) in jobs.into_iter().zip(results) {
        let w = w?;
        out.files += w.entries;
        out.summaries.push(LayerSummary {
            what: what.trim_start_matches("husk build: ").to_owned(),
            digest: w.descriptor.digest.clone(),
            size: w.descriptor.size,
            entries: w.entries,
            reused: w.reused,
        });
        out.layers.push(NewLayer {
            descriptor: w.descriptor,
            diff_id: w.diff_id,
            blob: BlobData::File(w.blob),
            created_by: what,
            comment: None,
        });
    }
    Ok(out)
}

/// The config's environment: PATH and (with a CA bundle) SSL_CERT_FILE, each replaced by
/// a user variable of the same name; then the user's in the order given.
pub(crate) fn config_env(req: &BuildRequest) -> Vec<String> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("PATH".into(), DEFAULT_PATH.into());
    if req.contents.ca_certs != CaCerts::None {
        env.insert("SSL_CERT_FILE".into(), CA_BUNDLE_PATH.into());
    }
    let mut env_list: Vec<String> = env
        .iter()
        .filter(|(k, _)| !req.config.env.iter().any(|(uk, _)| uk == *k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    env_list.extend(req.config.env.iter().map(|(k, v)| format!("{k}={v}")));
    env_list
}

/// The image config for `req` on `arch`, with the user and entrypoint it sets.
fn image_config(req: &BuildRequest, arch: Arch) -> (ImageConfig, String, Vec<String>) {
    let mut entrypoint = vec![req.dest.to_string()];
    entrypoint.extend(req.args.iter().cloned());
    let user = format!("{}:{}", req.config.user.uid, req.config.user.gid);
    let runtime = RuntimeConfig {
        user: Some(user.clone()),
        exposed_ports: (!req.config.expose.is_empty()).then(|| {
            req.config
                .expose
                .iter()
                .map(|p| (p.0.clone(), EmptyObject {}))
                .collect()
        }),
        env: Some(config_env(req)),
        entrypoint: Some(entrypoint.clone()),
        cmd: req.config.cmd.clone(),
        volumes: None,
        working_dir: req.config.workdir.as_ref().map(ToString::to_string),
        labels: (!req.config.labels.is_empty()).then(|| req.config.labels.clone()),
        stop_signal: req.config.stop_signal.clone(),
        healthcheck: req.config.healthcheck.as_ref().map(|cmd| {
            let mut test = vec!["CMD".to_owned()];
            test.extend(cmd.iter().cloned());
            husk_oci::spec::Healthcheck {
                test: Some(test),
                ..Default::default()
            }
        }),
    };
    let config = ImageConfig {
        created: Some(time::rfc3339(req.encoding.epoch)),
        author: None,
        architecture: arch.oci_architecture().to_owned(),
        os: "linux".into(),
        os_version: None,
        variant: arch.oci_variant().map(str::to_owned),
        config: Some(runtime),
        rootfs: Default::default(),
        history: Vec::new(),
    };
    (config, user, entrypoint)
}

#[cfg(test)]
mod tests {
    use super::shebang;

    #[test]
    fn shebangs() {
        assert_eq!(shebang(b"#!/bin/sh\necho"), Some("/bin/sh".into()));
        assert_eq!(
            shebang(b"#! /usr/bin/env python3 -u\n"),
            Some("/usr/bin/env".into())
        );
        assert_eq!(shebang(b"\x7fELF"), None);
        assert_eq!(shebang(b"#!"), None);
    }
}
