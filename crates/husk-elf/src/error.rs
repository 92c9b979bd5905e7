//! The one error type of husk-elf. Every variant names the object it is about and its
//! message says how to fix the problem.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::elf::Arch;
use crate::fs::Refusal;

/// Everything that can go wrong while reading ELF files or resolving their closure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ElfError {
    /// A root (or a file the loader would map) is not an ELF file at all.
    #[error("{} is not an ELF file; pass a compiled executable, not a script or a linker script", path.display())]
    NotElf {
        /// The offending file.
        path: PathBuf,
    },
    /// The file starts like ELF but its headers cannot be what a loader accepts.
    #[error("{} is a malformed ELF file ({reason}); rebuild it or check that it was copied completely", path.display())]
    Malformed {
        /// The offending file.
        path: PathBuf,
        /// What is wrong, for humans.
        reason: String,
    },
    /// Reading the host failed.
    #[error("cannot read {} on the host; check that it exists and is readable", path.display())]
    Io {
        /// The path that was being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A host file was refused before being read: not a regular file (a FIFO, a device,
    /// a symlink to one), on a kernel-generated filesystem, or over its size cap.
    #[error("refusing to read {}: {reason}", path.display())]
    InputRefused {
        /// The path as given (before symlinks were followed).
        path: PathBuf,
        /// Why.
        reason: Refusal,
    },
    /// A DT_NEEDED entry could not be found where the dynamic loader would look.
    #[error("{}", library_not_found(name, needed_by, searched, wrong_arch))]
    LibraryNotFound {
        /// The DT_NEEDED string.
        name: String,
        /// The object whose DT_NEEDED names it.
        needed_by: PathBuf,
        /// Every candidate path that was tried, in order.
        searched: Vec<PathBuf>,
        /// Candidates that exist but are of the wrong class or machine (ld.so skips those).
        wrong_arch: Vec<PathBuf>,
    },
    /// PT_INTERP names a dynamic loader that is missing or of another architecture.
    #[error("the ELF interpreter {} requested by {} is missing on the host or is not an ELF file of the same architecture; install the matching libc (or build the program statically)", interpreter.display(), needed_by.display())]
    InterpreterNotFound {
        /// The PT_INTERP string.
        interpreter: PathBuf,
        /// The object carrying PT_INTERP.
        needed_by: PathBuf,
    },
    /// A root is of another architecture than the first root.
    #[error("{} is built for {found} but the image is for {expected}; add only files of one architecture", path.display())]
    WrongArch {
        /// The offending root.
        path: PathBuf,
        /// Its architecture.
        found: Arch,
        /// The architecture of the first root.
        expected: Arch,
    },
    /// More than 40 symbolic links were followed (the kernel's ELOOP limit).
    #[error("too many levels of symbolic links while resolving {}; fix the symlink loop on the host", path.display())]
    SymlinkLoop {
        /// The path being resolved.
        path: PathBuf,
    },
    /// `materialize` was asked for something that is not a regular file.
    #[error("{} is not a regular file on the host; only regular files (through symlinks) can be copied", path.display())]
    NotAFile {
        /// The path as resolved on the host.
        path: PathBuf,
    },
    /// A path that must be absolute was relative.
    #[error("{} is a relative path; pass an absolute host path", path.display())]
    RelativePath {
        /// The offending path.
        path: PathBuf,
    },
    /// `closure` was called without any root.
    #[error("no ELF roots were given; pass at least the entrypoint")]
    NoRoots,
    /// An NSS service name that cannot be a module name.
    #[error("{service:?} is not a valid NSS service name; use names like \"files\" or \"dns\"")]
    InvalidNssService {
        /// The offending service name.
        service: String,
    },
}

impl ElfError {
    /// An I/O error on `path`; one carrying a [`Refusal`] becomes
    /// [`ElfError::InputRefused`].
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        match Refusal::of(&source) {
            Some(reason) => ElfError::InputRefused {
                path: path.to_path_buf(),
                reason: reason.clone(),
            },
            None => ElfError::Io {
                path: path.to_path_buf(),
                source,
            },
        }
    }

    pub(crate) fn malformed(path: &Path, reason: impl Into<String>) -> Self {
        ElfError::Malformed {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// Paths listed in a "not found" message; a hostile RUNPATH may name 100k directories.
const MAX_LISTED: usize = 64;

fn library_not_found(
    name: &str,
    needed_by: &Path,
    searched: &[PathBuf],
    wrong_arch: &[PathBuf],
) -> String {
    let mut msg = format!(
        "library {name} needed by {} was not found where the dynamic loader looks",
        needed_by.display()
    );
    if !wrong_arch.is_empty() {
        msg.push_str("; found only wrong-architecture candidates: ");
        push_paths(&mut msg, wrong_arch);
    }
    if searched.is_empty() {
        msg.push_str("; nothing could be searched");
    } else {
        let _ = write!(msg, "; searched {} paths: ", searched.len());
        push_paths(&mut msg, searched.get(..MAX_LISTED).unwrap_or(searched));
        if let Some(more) = searched.len().checked_sub(MAX_LISTED).filter(|&n| n > 0) {
            let _ = write!(msg, " and {more} more");
        }
    }
    msg.push_str(
        "; install the library for this architecture, or add its directory to the RUNPATH",
    );
    msg
}

fn push_paths(msg: &mut String, paths: &[PathBuf]) {
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            msg.push_str(", ");
        }
        msg.push_str(&p.display().to_string());
    }
}
