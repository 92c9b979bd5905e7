//! The dependency closure, searched the way glibc's `elf/dl-load.c` (`_dl_map_object`)
//! searches, and musl's `ldso/dynlink.c` for musl programs.
//!
//! glibc order for a DT_NEEDED `name` of object R (`man 8 ld.so`):
//! 1. `name` contains `/`: it is the path (after DST expansion).
//! 2. If R has no DT_RUNPATH: DT_RPATH of R, of R's loader, and so on up to the root, then
//!    of the main executable (an object with DT_RUNPATH contributes no DT_RPATH).
//! 3. LD_LIBRARY_PATH: never set in an image built by husk, so skipped.
//! 4. DT_RUNPATH of R only (not inherited).
//! 5. Unless R has `DF_1_NODEFLIB`: `/etc/ld.so.cache` entries for the right ABI, then the
//!    default directories.
//!
//! Like ld.so, a name already loaded (matching an object's DT_NEEDED name, DT_SONAME or
//! path) is not searched again, which is also how cycles end; candidates of the wrong
//! class or machine are skipped, and a candidate that is not ELF at all is fatal.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::cache::LdCache;
use crate::conf::try_read_ld_so_conf;
use crate::elf::{Arch, ElfInfo, parse_elf};
use crate::engine::Engine;
use crate::error::ElfError;
use crate::fs::{FileKind, HostFs, MAX_LD_CACHE_BYTES, Refusal};

const LD_SO_CACHE: &str = "/etc/ld.so.cache";
const LD_SO_CONF: &str = "/etc/ld.so.conf";

/// Resolves ELF dependency closures against one host filesystem. Parsed files are
/// memoised per path for the resolver's lifetime, so reuse one resolver per build.
pub struct Resolver<'fs> {
    pub(crate) fs: &'fs dyn HostFs,
    pub(crate) cache: Option<LdCache>,
    pub(crate) conf_dirs: Vec<PathBuf>,
    /// ld.so.cache, ld.so.conf or an include that was refused (not a regular file, or
    /// too large): every closure fails with it, naming the file.
    refused: Option<(PathBuf, Refusal)>,
    memo: Mutex<HashMap<PathBuf, Candidate>>,
}

impl std::fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field(
                "cache_entries",
                &self.cache.as_ref().map(|c| c.entries().len()),
            )
            .field("conf_dirs", &self.conf_dirs)
            .finish_non_exhaustive()
    }
}

/// The result of [`Resolver::closure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    /// The architecture of the roots.
    pub arch: Arch,
    /// The first root's PT_INTERP, as written there (e.g. `/lib64/ld-linux-x86-64.so.2`);
    /// `None` for static programs.
    pub interpreter: Option<PathBuf>,
    /// Every library the loader opens, deduplicated and sorted by path; excludes the
    /// roots and `interpreter`.
    pub libraries: Vec<ResolvedLib>,
}

/// One library of a closure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResolvedLib {
    /// The DT_NEEDED string that first pulled it in.
    pub name: String,
    /// The path the loader opens (not canonicalised; feed it to [`crate::materialize`]).
    pub path: PathBuf,
    /// The object whose DT_NEEDED pulled it in (first in breadth-first load order).
    pub needed_by: PathBuf,
    /// How the loader found it.
    pub found_via: FoundVia,
}

/// Which step of the loader's search found a library. An image has no ld.so.cache and
/// no ld.so.conf, so what only those found needs help to load there; what `$ORIGIN` found
/// moves with the object that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FoundVia {
    /// A DT_NEEDED that is a path (possibly with `$ORIGIN`).
    Path { origin: bool },
    /// A DT_RPATH entry (of the requester or a loader), possibly with `$ORIGIN`.
    Rpath { origin: bool },
    /// A DT_RUNPATH entry, possibly with `$ORIGIN`.
    Runpath { origin: bool },
    /// The host's ld.so.cache (or, without a usable cache, an ld.so.conf directory).
    Cache,
    /// The loader's built-in default directories.
    Default,
    /// The program interpreter itself (a second interpreter shipped as a library).
    Interpreter,
}

impl FoundVia {
    /// Whether the path came from `$ORIGIN`, i.e. depends on where the requester lies.
    pub fn origin_relative(self) -> bool {
        matches!(
            self,
            FoundVia::Path { origin: true }
                | FoundVia::Rpath { origin: true }
                | FoundVia::Runpath { origin: true }
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Candidate {
    Missing,
    NotElf,
    Malformed(String),
    Refused(Refusal),
    Elf(Arc<ElfInfo>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    Glibc,
    Musl,
}

pub(crate) struct Obj {
    pub(crate) path: PathBuf,
    pub(crate) info: Arc<ElfInfo>,
    pub(crate) origin: Option<PathBuf>,
    pub(crate) loader: Option<usize>,
    pub(crate) names: Vec<String>,
}

impl<'fs> Resolver<'fs> {
    /// Reads `/etc/ld.so.cache` and `/etc/ld.so.conf` (with includes) through `fs`. A
    /// missing or corrupt file is ignored, as ld.so ignores it. The conf directories are
    /// searched only when there is no usable cache, standing in for the cache ldconfig
    /// would build from them. A file that is refused (a FIFO, a device, a `/proc` file, a
    /// symlink to one, or one over its size cap) is remembered, and
    /// [`Resolver::closure`] fails with it.
    pub fn new(fs: &'fs dyn HostFs) -> Self {
        let mut refused = None;
        let cache = match fs.read_limited(Path::new(LD_SO_CACHE), MAX_LD_CACHE_BYTES) {
            Ok(b) => LdCache::parse(&b),
            Err(e) => {
                refused = Refusal::of(&e).map(|r| (PathBuf::from(LD_SO_CACHE), r.clone()));
                None
            }
        };
        let conf_dirs = match try_read_ld_so_conf(fs, Path::new(LD_SO_CONF)) {
            Ok(dirs) => dirs,
            Err(ElfError::InputRefused { path, reason }) => {
                refused.get_or_insert((path, reason));
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        Resolver {
            fs,
            cache,
            conf_dirs,
            refused,
            memo: Mutex::new(HashMap::new()),
        }
    }

    /// The parsed ld.so.cache, if the host has a usable one.
    #[must_use]
    pub fn ld_cache(&self) -> Option<&LdCache> {
        self.cache.as_ref()
    }

    /// The directories listed by ld.so.conf and its includes.
    #[must_use]
    pub fn conf_dirs(&self) -> &[PathBuf] {
        &self.conf_dirs
    }

    /// The full closure of the given ELF roots (the entrypoint first, then any other ELF
    /// files to ship). Every root must be ELF of the first root's architecture.
    ///
    /// # Errors
    /// [`ElfError::NoRoots`]; [`ElfError::Io`] when a root cannot be read;
    /// [`ElfError::NotElf`] / [`ElfError::Malformed`] for a bad root or a bad file found
    /// where a library was expected; [`ElfError::WrongArch`] for a root of another
    /// architecture; [`ElfError::InterpreterNotFound`]; [`ElfError::LibraryNotFound`];
    /// [`ElfError::InputRefused`] when ld.so.cache, ld.so.conf or an include was refused
    /// at construction, or a root or a library candidate is not a regular file (a FIFO,
    /// a device, a symlink to one, a `/proc` file) or is over [`crate::MAX_FILE_BYTES`].
    pub fn closure(&self, roots: &[PathBuf]) -> Result<Closure, ElfError> {
        if let Some((path, reason)) = &self.refused {
            return Err(ElfError::InputRefused {
                path: path.clone(),
                reason: reason.clone(),
            });
        }
        let (first, rest) = roots.split_first().ok_or(ElfError::NoRoots)?;
        let first_info = self.load_root(first)?;
        let mut eng = Engine::new(self, &first_info);
        eng.add_root(first, first_info)?;
        for root in rest {
            let info = self.load_root(root)?;
            eng.add_root(root, info)?;
        }
        eng.run()?;
        Ok(Closure {
            arch: eng.target.arch,
            interpreter: eng.interpreter.clone(),
            libraries: eng.finish(),
        })
    }

    /// The glibc NSS modules `libnss_<service>.so.2` for `services`, searched as if
    /// libc.so.6 named them in DT_NEEDED, plus their own dependencies that `closure` does
    /// not already hold. Empty unless `closure` contains libc.so.6. A module that does not
    /// exist is skipped: glibc >= 2.34 builds `files` and `dns` into libc.
    ///
    /// # Errors
    /// [`ElfError::InvalidNssService`] for a service name that is not `[A-Za-z0-9_-]+`;
    /// otherwise as [`Resolver::closure`], for the modules' own dependencies.
    pub fn nss_modules(
        &self,
        closure: &Closure,
        services: &[&str],
    ) -> Result<Vec<ResolvedLib>, ElfError> {
        for s in services {
            if s.is_empty()
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(ElfError::InvalidNssService {
                    service: (*s).to_owned(),
                });
            }
        }
        let Some(libc) = closure.libraries.iter().find(|l| {
            l.name == "libc.so.6" || l.path.file_name().is_some_and(|n| n == "libc.so.6")
        }) else {
            return Ok(Vec::new());
        };
        let Some(eng) = self.rebuild(closure)? else {
            return Ok(Vec::new());
        };
        let mut eng = eng;
        let Some(&libc_idx) = eng.by_path.get(&libc.path) else {
            return Ok(Vec::new());
        };
        let already: HashSet<PathBuf> = eng.by_path.keys().cloned().collect();
        eng.out.clear();
        for svc in services {
            let name = format!("libnss_{svc}.so.2");
            if eng.name_loaded(&name).is_some() {
                continue;
            }
            match eng.find(libc_idx, &name) {
                Ok(path) => eng.add_found(libc_idx, &name, path)?,
                Err(ElfError::LibraryNotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        eng.run()?;
        let mut out = eng.finish();
        out.retain(|l| !already.contains(&l.path));
        Ok(out)
    }

    /// Rebuilds the loaded-object state of a closure (roots are the `needed_by` paths that
    /// are not libraries).
    fn rebuild(&self, closure: &Closure) -> Result<Option<Engine<'_, 'fs>>, ElfError> {
        let lib_paths: HashSet<&PathBuf> = closure.libraries.iter().map(|l| &l.path).collect();
        let mut roots: Vec<&PathBuf> = Vec::new();
        for l in &closure.libraries {
            if !lib_paths.contains(&l.needed_by) && !roots.contains(&&l.needed_by) {
                roots.push(&l.needed_by);
            }
        }
        let Some(first) = roots.first() else {
            return Ok(None);
        };
        let first_info = self.load_root(first)?;
        let mut eng = Engine::new(self, &first_info);
        eng.target.arch = closure.arch;
        eng.interpreter_hint(closure.interpreter.as_deref());
        for root in &roots {
            let info = self.load_root(root)?;
            eng.add_root(root, info)?;
        }
        // Re-add libraries in an order where each loader precedes what it loaded.
        let mut pending: Vec<&ResolvedLib> = closure.libraries.iter().collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut i = 0;
            while i < pending.len() {
                let l = pending[i];
                if let Some(&loader) = eng.by_path.get(&l.needed_by) {
                    eng.insert_obj(loader, &l.name, l.path.clone())?;
                    pending.swap_remove(i);
                } else {
                    i += 1;
                }
            }
            if pending.len() == before {
                break;
            }
        }
        eng.queue.clear();
        Ok(Some(eng))
    }

    pub(crate) fn load_root(&self, path: &Path) -> Result<Arc<ElfInfo>, ElfError> {
        let bytes = self.fs.read_elf(path).map_err(|e| ElfError::io(path, e))?;
        let info = Arc::new(parse_elf(&bytes, path)?);
        self.memo_insert(path, Candidate::Elf(Arc::clone(&info)));
        Ok(info)
    }

    fn memo_insert(&self, path: &Path, c: Candidate) {
        if let Ok(mut m) = self.memo.lock() {
            m.insert(path.to_path_buf(), c);
        }
    }

    /// A candidate file, parsed once per path.
    pub(crate) fn candidate(&self, path: &Path) -> Candidate {
        if let Ok(m) = self.memo.lock()
            && let Some(c) = m.get(path)
        {
            return c.clone();
        }
        let c = match self.fs.file_type(path) {
            // A directory where a library is expected is skipped like ENOENT.
            Ok(FileKind::Dir) | Err(_) => Candidate::Missing,
            // A FIFO or device would hang or flood the reader: refused, by name.
            Ok(FileKind::Other) => Candidate::Refused(Refusal::NotRegular {
                kind: "FIFO, device or socket",
            }),
            Ok(FileKind::File | FileKind::Symlink) => match self.fs.read_elf(path) {
                Err(e) => match Refusal::of(&e) {
                    Some(Refusal::NotRegular { kind: "directory" }) | None => Candidate::Missing,
                    Some(r) => Candidate::Refused(r.clone()),
                },
                Ok(bytes) => match parse_elf(&bytes, path) {
                    Ok(info) => Candidate::Elf(Arc::new(info)),
                    Err(ElfError::NotElf { .. }) => Candidate::NotElf,
                    Err(ElfError::Malformed { reason, .. }) => Candidate::Malformed(reason),
                    Err(e) => Candidate::Malformed(e.to_string()),
                },
            },
        };
        self.memo_insert(path, c.clone());
        c
    }
}
