//! husk-elf: what the dynamic loader will open when an ELF program starts, so that husk
//! can copy exactly that closure into a FROM-scratch image.
//!
//! It owns ELF parsing for the loader's view ([`parse_elf`]: program headers only,
//! PT_DYNAMIC with DT_STRTAB mapped through PT_LOAD, so files without section headers
//! work), the glibc `ld.so.cache` and `ld.so.conf` readers, the dependency search
//! ([`Resolver`]) and [`materialize`], which turns a host path into the symlinks and file
//! that make it resolve identically inside an image.
//!
//! The host is read only through [`HostFs`] ([`RealFs`] in production, [`RootedFs`] for a
//! foreign architecture's sysroot, [`FakeFs`] in
//! tests), so the resolver's behaviour is testable without any particular `/lib`. The
//! search follows glibc's `elf/dl-load.c` and `man 8 ld.so` (DT_RPATH chain, DT_RUNPATH,
//! ld.so.cache, system directories, `$ORIGIN`/`$LIB`/`$PLATFORM`), with musl's simpler
//! order for musl programs. Hostile input (truncated ELF, wild offsets, corrupt caches)
//! yields errors, never panics.
//!
//! Not modelled: LD_LIBRARY_PATH and LD_PRELOAD (an image has no such environment unless
//! the user sets one), glibc-hwcaps and legacy hwcap subdirectories, `dlopen` calls other
//! than glibc's NSS modules ([`Resolver::nss_modules`]).

mod cache;
mod conf;
mod dirs;
mod elf;
mod engine;
mod error;
mod exec;
mod fs;
mod materialize;
mod parts;
mod resolve;
mod rooted;
// Synthetic ELF files for tests: compiled only for this crate's tests and for crates
// that enable the `testing` feature (from their dev-dependencies), never in a release build.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
mod versions;

pub use cache::{CacheEntry, LdCache, build_new_cache, flags_match};
pub use conf::read_ld_so_conf;
pub use elf::{Arch, ElfInfo, ObjectType, is_elf, parse_elf, parse_header};
pub use error::ElfError;
pub use exec::{ExecProblem, exec_check};
pub use fs::{
    FakeFs, FileKind, HostFs, MAX_CONFIG_BYTES, MAX_FILE_BYTES, MAX_LD_CACHE_BYTES, MAX_SYMLINKS,
    RealFs, Refusal, read_regular, read_regular_elf,
};
pub use materialize::{HostEntry, canonicalize, materialize};
pub use parts::read_elf_parts;
pub use resolve::{Closure, FoundVia, ResolvedLib, Resolver};
pub use rooted::RootedFs;
pub use versions::{SymbolVersions, VersionNeed, symbol_versions};
