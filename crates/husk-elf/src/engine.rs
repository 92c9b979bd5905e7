//! The breadth-first load simulation behind [`crate::Resolver`]: which objects are
//! loaded, by whom (the loader chain that DT_RPATH inheritance walks), under which names
//! (DT_NEEDED, DT_SONAME, path: ld.so's `_dl_name_match_p`), and the per-name search in
//! the order of glibc's `_dl_map_object` or musl's `load_library`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::dirs::{
    DstValues, expand_dst, glibc_default_dirs, multiarch_triplet, musl_default_dirs, platform,
};
use crate::elf::{Arch, ElfInfo};
use crate::error::ElfError;
use crate::fs::FileKind;
use crate::materialize::canonicalize;
use crate::resolve::{Candidate, Flavour, FoundVia, Obj, ResolvedLib, Resolver};

/// The target every loaded object must match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub(crate) arch: Arch,
    class64: bool,
    little_endian: bool,
    machine: u16,
}

impl Target {
    pub(crate) fn accepts(&self, info: &ElfInfo) -> bool {
        self.class64 == info.class64
            && self.little_endian == info.little_endian
            && self.machine == info.machine
    }
}

pub(crate) struct Engine<'r, 'fs> {
    pub(crate) r: &'r Resolver<'fs>,
    pub(crate) target: Target,
    pub(crate) flavour: Flavour,
    /// `$LIB` and `$PLATFORM` for glibc programs.
    pub(crate) dst: DstValues,
    pub(crate) objs: Vec<Obj>,
    pub(crate) by_path: HashMap<PathBuf, usize>,
    /// Every name an object is known by (`Obj::names`) -> the first object with it, so
    /// `name_loaded` is one lookup, not a scan (100k DT_NEEDED names stay linear).
    pub(crate) by_name: HashMap<String, usize>,
    pub(crate) root_paths: HashSet<PathBuf>,
    /// The main executable (first root): its DT_RPATH applies to every lookup.
    pub(crate) main: Option<usize>,
    pub(crate) interpreter: Option<PathBuf>,
    pub(crate) queue: VecDeque<usize>,
    pub(crate) out: Vec<ResolvedLib>,
    pub(crate) default_dirs: Option<Vec<PathBuf>>,
}

impl<'r, 'fs> Engine<'r, 'fs> {
    pub(crate) fn new(r: &'r Resolver<'fs>, first: &ElfInfo) -> Self {
        let target = Target {
            arch: first.arch,
            class64: first.class64,
            little_endian: first.little_endian,
            machine: first.machine,
        };
        let flavour = match &first.interpreter {
            Some(i) if i.contains("ld-musl-") => Flavour::Musl,
            _ => Flavour::Glibc,
        };
        let triplet = multiarch_triplet(target.arch);
        let lib_dst = match triplet {
            Some(t)
                if matches!(
                    r.fs.file_type(&Path::new("/lib").join(t)),
                    Ok(FileKind::Dir | FileKind::Symlink)
                ) || matches!(
                    r.fs.file_type(&Path::new("/usr/lib").join(t)),
                    Ok(FileKind::Dir | FileKind::Symlink)
                ) =>
            {
                format!("lib/{t}")
            }
            _ if target.class64 => "lib64".to_owned(),
            _ => "lib".to_owned(),
        };
        Engine {
            r,
            target,
            flavour,
            dst: DstValues {
                lib: Some(lib_dst),
                platform: platform(target.arch),
            },
            objs: Vec::new(),
            by_path: HashMap::new(),
            by_name: HashMap::new(),
            root_paths: HashSet::new(),
            main: None,
            interpreter: None,
            queue: VecDeque::new(),
            out: Vec::new(),
            default_dirs: None,
        }
    }

    pub(crate) fn interpreter_hint(&mut self, interp: Option<&Path>) {
        if let Some(i) = interp
            && i.to_string_lossy().contains("ld-musl-")
        {
            self.flavour = Flavour::Musl;
        }
    }

    pub(crate) fn add_root(&mut self, path: &Path, info: Arc<ElfInfo>) -> Result<(), ElfError> {
        if !self.target.accepts(&info) {
            return Err(ElfError::WrongArch {
                path: path.to_path_buf(),
                found: info.arch,
                expected: self.target.arch,
            });
        }
        if let Some(interp) = info.interpreter.clone() {
            self.add_interpreter(path, &interp)?;
        }
        if self.by_path.contains_key(path) {
            self.root_paths.insert(path.to_path_buf());
            return Ok(());
        }
        // $ORIGIN of an executable comes from /proc/self/exe: the canonical path.
        let origin = canonicalize(self.r.fs, path)
            .ok()
            .or_else(|| path.is_absolute().then(|| path.to_path_buf()))
            .and_then(|p| p.parent().map(Path::to_path_buf));
        let mut names = vec![path.to_string_lossy().into_owned()];
        names.extend(info.soname.clone());
        let idx = self.objs.len();
        self.push_obj(Obj {
            path: path.to_path_buf(),
            info,
            origin,
            loader: None,
            names,
        });
        self.by_path.insert(path.to_path_buf(), idx);
        self.root_paths.insert(path.to_path_buf());
        self.main.get_or_insert(idx);
        self.queue.push_back(idx);
        Ok(())
    }

    fn add_interpreter(&mut self, root: &Path, interp: &str) -> Result<(), ElfError> {
        let ipath = PathBuf::from(interp);
        let not_found = || ElfError::InterpreterNotFound {
            interpreter: ipath.clone(),
            needed_by: root.to_path_buf(),
        };
        if !ipath.is_absolute() {
            return Err(not_found());
        }
        let info = match self.r.candidate(&ipath) {
            Candidate::Elf(info) if self.target.accepts(&info) => info,
            Candidate::Refused(reason) => {
                return Err(ElfError::InputRefused {
                    path: ipath,
                    reason,
                });
            }
            _ => return Err(not_found()),
        };
        if self.by_path.contains_key(&ipath) {
            return Ok(());
        }
        if self.interpreter.is_none() {
            self.interpreter = Some(ipath.clone());
        } else {
            // A second, different interpreter (roots for several libcs): ship it as a library.
            self.out.push(ResolvedLib {
                name: interp.to_owned(),
                path: ipath.clone(),
                needed_by: root.to_path_buf(),
                found_via: FoundVia::Interpreter,
            });
        }
        let mut names = vec![interp.to_owned()];
        names.extend(info.soname.clone());
        let idx = self.objs.len();
        self.push_obj(Obj {
            origin: ipath.parent().map(Path::to_path_buf),
            path: ipath.clone(),
            info,
            loader: None,
            names,
        });
        self.by_path.insert(ipath, idx);
        // The interpreter's own DT_NEEDED (none for ld.so) are not loaded by it.
        Ok(())
    }

    pub(crate) fn run(&mut self) -> Result<(), ElfError> {
        while let Some(idx) = self.queue.pop_front() {
            let needed = self.objs[idx].info.needed.clone();
            for name in needed {
                if self.name_loaded(&name).is_some() || self.musl_builtin(&name) {
                    continue;
                }
                let path = self.find(idx, &name)?;
                self.add_found(idx, &name, path)?;
            }
        }
        Ok(())
    }

    pub(crate) fn add_found(
        &mut self,
        loader: usize,
        name: &str,
        (path, found_via): (PathBuf, FoundVia),
    ) -> Result<(), ElfError> {
        if let Some(&i) = self.by_path.get(&path) {
            // Same file opened under another name: ld.so reuses it and remembers the name.
            self.objs[i].names.push(name.to_owned());
            self.by_name.entry(name.to_owned()).or_insert(i);
            return Ok(());
        }
        let idx = self.insert_obj(loader, name, path.clone())?;
        self.queue.push_back(idx);
        if !self.root_paths.contains(&path) && self.interpreter.as_ref() != Some(&path) {
            self.out.push(ResolvedLib {
                name: name.to_owned(),
                path,
                needed_by: self.objs[loader].path.clone(),
                found_via,
            });
        }
        Ok(())
    }

    pub(crate) fn insert_obj(
        &mut self,
        loader: usize,
        name: &str,
        path: PathBuf,
    ) -> Result<usize, ElfError> {
        if let Some(&i) = self.by_path.get(&path) {
            return Ok(i);
        }
        let info = match self.r.candidate(&path) {
            Candidate::Elf(info) => info,
            Candidate::NotElf => return Err(ElfError::NotElf { path }),
            Candidate::Malformed(reason) => return Err(ElfError::Malformed { path, reason }),
            Candidate::Refused(reason) => return Err(ElfError::InputRefused { path, reason }),
            Candidate::Missing => {
                return Err(ElfError::LibraryNotFound {
                    name: name.to_owned(),
                    needed_by: self.objs[loader].path.clone(),
                    searched: vec![path],
                    wrong_arch: Vec::new(),
                });
            }
        };
        let mut names = vec![name.to_owned(), path.to_string_lossy().into_owned()];
        names.extend(info.soname.clone());
        let idx = self.objs.len();
        self.push_obj(Obj {
            origin: path.parent().map(Path::to_path_buf),
            path: path.clone(),
            info,
            loader: Some(loader),
            names,
        });
        self.by_path.insert(path, idx);
        Ok(idx)
    }

    /// musl's dynamic linker is libc, libpthread, librt, libm, libdl, libutil and libxnet
    /// at once: `lib<one of those>` followed by `.` or nothing is never searched.
    fn musl_builtin(&self, name: &str) -> bool {
        if self.flavour != Flavour::Musl {
            return false;
        }
        let Some(rest) = name.strip_prefix("lib") else {
            return false;
        };
        ["c", "pthread", "rt", "m", "dl", "util", "xnet"]
            .iter()
            .any(|r| {
                rest.strip_prefix(r)
                    .is_some_and(|t| t.is_empty() || t.starts_with('.'))
            })
    }

    /// ld.so's `_dl_name_match_p` over every loaded object.
    pub(crate) fn name_loaded(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Appends an object and indexes its names.
    fn push_obj(&mut self, obj: Obj) {
        let idx = self.objs.len();
        for n in &obj.names {
            self.by_name.entry(n.clone()).or_insert(idx);
        }
        self.objs.push(obj);
    }

    pub(crate) fn finish(mut self) -> Vec<ResolvedLib> {
        let mut out = std::mem::take(&mut self.out);
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out.dedup_by(|a, b| a.path == b.path);
        out
    }

    /// Where the loader finds `name` for the object `req`.
    pub(crate) fn find(&mut self, req: usize, name: &str) -> Result<(PathBuf, FoundVia), ElfError> {
        let mut search = Search::default();
        let origin = self.objs[req].origin.clone();
        if name.contains('/') {
            if let Some(p) = self.expand(name, origin.as_deref())
                && Path::new(&p).is_absolute()
                && self.try_path(&mut search, PathBuf::from(p))?
            {
                search.via = Some(FoundVia::Path {
                    origin: has_origin(name),
                });
                return Ok(search.take());
            }
            return Err(self.not_found(req, name, search));
        }
        let found = match self.flavour {
            Flavour::Glibc => self.find_glibc(&mut search, req, name)?,
            Flavour::Musl => self.find_musl(&mut search, req, name)?,
        };
        if found {
            return Ok(search.take());
        }
        Err(self.not_found(req, name, search))
    }

    /// glibc's order after a `/`-free name: DT_RPATH chain (when R has no DT_RUNPATH),
    /// DT_RUNPATH, then unless `DF_1_NODEFLIB` the cache and the default directories.
    fn find_glibc(
        &mut self,
        search: &mut Search,
        req: usize,
        name: &str,
    ) -> Result<bool, ElfError> {
        let req_info = Arc::clone(&self.objs[req].info);
        if req_info.runpath.is_empty() {
            let mut did_main = false;
            let mut cur = Some(req);
            let mut hops = 0;
            while let Some(i) = cur {
                if self.search_list(search, i, ListKind::Rpath, name)? {
                    return Ok(true);
                }
                did_main |= Some(i) == self.main;
                cur = self.objs[i].loader;
                hops += 1;
                if hops > self.objs.len() {
                    break;
                }
            }
            if !did_main
                && let Some(main) = self.main
                && self.search_list(search, main, ListKind::Rpath, name)?
            {
                return Ok(true);
            }
        } else if self.search_list(search, req, ListKind::Runpath, name)? {
            return Ok(true);
        }
        if req_info.nodeflib {
            return Ok(false);
        }
        let cached: Vec<PathBuf> = match &self.r.cache {
            Some(c) => c.lookup(name, self.target.arch).cloned().collect(),
            None => self.r.conf_dirs.iter().map(|d| d.join(name)).collect(),
        };
        for p in cached {
            if self.try_path(search, p)? {
                search.via = Some(FoundVia::Cache);
                return Ok(true);
            }
        }
        self.find_in_default_dirs(search, name)
    }

    /// musl: DT_RPATH/DT_RUNPATH of the requester and then of its loaders, then the
    /// default directories.
    fn find_musl(&mut self, search: &mut Search, req: usize, name: &str) -> Result<bool, ElfError> {
        let mut cur = Some(req);
        let mut hops = 0;
        while let Some(i) = cur {
            if self.search_list(search, i, ListKind::Both, name)? {
                return Ok(true);
            }
            cur = self.objs[i].loader;
            hops += 1;
            if hops > self.objs.len() {
                break;
            }
        }
        self.find_in_default_dirs(search, name)
    }

    fn find_in_default_dirs(&mut self, search: &mut Search, name: &str) -> Result<bool, ElfError> {
        for d in self.default_dirs() {
            if self.try_path(search, d.join(name))? {
                search.via = Some(FoundVia::Default);
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn not_found(&self, req: usize, name: &str, search: Search) -> ElfError {
        ElfError::LibraryNotFound {
            name: name.to_owned(),
            needed_by: self.objs[req].path.clone(),
            searched: search.tried,
            wrong_arch: search.wrong_arch,
        }
    }

    /// Searches one object's path list; true when found (in `search.found`).
    fn search_list(
        &mut self,
        search: &mut Search,
        obj: usize,
        kind: ListKind,
        name: &str,
    ) -> Result<bool, ElfError> {
        let info = Arc::clone(&self.objs[obj].info);
        let origin = self.objs[obj].origin.clone();
        let list: Vec<&String> = match kind {
            // An object with DT_RUNPATH has its DT_RPATH ignored.
            ListKind::Rpath if info.runpath.is_empty() => info.rpath.iter().collect(),
            ListKind::Rpath => Vec::new(),
            ListKind::Runpath => info.runpath.iter().collect(),
            ListKind::Both => info.rpath.iter().chain(info.runpath.iter()).collect(),
        };
        for entry in list {
            let Some(dir) = self.expand(entry, origin.as_deref()) else {
                continue;
            };
            // Relative entries are relative to the working directory, unknown here.
            if !Path::new(&dir).is_absolute() {
                continue;
            }
            if self.try_path(search, Path::new(&dir).join(name))? {
                let origin = has_origin(entry);
                search.via = Some(match kind {
                    ListKind::Rpath => FoundVia::Rpath { origin },
                    ListKind::Runpath => FoundVia::Runpath { origin },
                    // musl does not tell them apart.
                    ListKind::Both => FoundVia::Runpath { origin },
                });
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Tries one candidate path; wrong-class/machine files are skipped and remembered.
    fn try_path(&mut self, search: &mut Search, path: PathBuf) -> Result<bool, ElfError> {
        if !search.tried_set.insert(path.clone()) {
            return Ok(false);
        }
        search.tried.push(path.clone());
        match self.r.candidate(&path) {
            Candidate::Missing => Ok(false),
            Candidate::NotElf => Err(ElfError::NotElf { path }),
            Candidate::Malformed(reason) => Err(ElfError::Malformed { path, reason }),
            Candidate::Refused(reason) => Err(ElfError::InputRefused { path, reason }),
            Candidate::Elf(info) => {
                if self.target.accepts(&info) {
                    search.found = Some(path);
                    Ok(true)
                } else {
                    search.wrong_arch.push(path);
                    Ok(false)
                }
            }
        }
    }

    fn expand(&self, s: &str, origin: Option<&Path>) -> Option<String> {
        let vals = match self.flavour {
            Flavour::Glibc => self.dst.clone(),
            // musl expands only $ORIGIN.
            Flavour::Musl => DstValues::default(),
        };
        expand_dst(s, origin, &vals)
    }

    fn default_dirs(&mut self) -> Vec<PathBuf> {
        if let Some(d) = &self.default_dirs {
            return d.clone();
        }
        let dirs = match self.flavour {
            Flavour::Glibc => glibc_default_dirs(self.target.arch, self.target.class64),
            Flavour::Musl => musl_default_dirs(self.r.fs, self.target.arch),
        };
        self.default_dirs = Some(dirs.clone());
        dirs
    }
}

#[derive(Default)]
struct Search {
    tried: Vec<PathBuf>,
    /// `tried` as a set: a 100k-entry RUNPATH is checked in linear time.
    tried_set: HashSet<PathBuf>,
    wrong_arch: Vec<PathBuf>,
    found: Option<PathBuf>,
    via: Option<FoundVia>,
}

impl Search {
    /// The found path and how (called only after a successful try).
    fn take(&mut self) -> (PathBuf, FoundVia) {
        (
            self.found.take().unwrap_or_default(),
            self.via.take().unwrap_or(FoundVia::Default),
        )
    }
}

fn has_origin(s: &str) -> bool {
    s.contains("$ORIGIN") || s.contains("${ORIGIN}")
}

#[derive(Clone, Copy)]
enum ListKind {
    Rpath,
    Runpath,
    Both,
}
