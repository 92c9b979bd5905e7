//! The file-related system calls the tracer stops on, per architecture: each one's number,
//! name, and where its path, directory fd and flags are among the six arguments.
//!
//! This table is the single source of the seccomp filter (`filter.rs`) and of the decoder
//! (`decode.rs`), so a call cannot be filtered without being decoded, or the reverse.

/// What a call does with its path, which decides how a successful call is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// open/openat: `flags` is the open flags argument.
    Open,
    /// openat2: `flags` is a pointer to `struct open_how` (flags are its first u64).
    OpenHow,
    /// creat: open with O_CREAT|O_WRONLY|O_TRUNC.
    Creat,
    /// execve/execveat: `flags` (execveat) may hold AT_EMPTY_PATH.
    Exec,
    /// stat-like: `flags` may hold AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH.
    Stat,
    /// lstat: never follows the final symlink.
    Lstat,
    /// access/faccessat(2): `flags` (faccessat2) may hold AT_SYMLINK_NOFOLLOW.
    Access,
    /// readlink/readlinkat: the link itself.
    Readlink,
    /// chdir: the directory becomes the cwd.
    Chdir,
    /// fchdir: the cwd changes (to a directory already opened: nothing to record).
    Fchdir,
    /// getdents/getdents64: lists the directory open on fd `path`.
    List,
    /// mkdir, rename, link, symlink targets: the path the call creates.
    Create,
}

/// One traced system call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sys {
    pub nr: i64,
    pub name: &'static str,
    pub op: Op,
    /// The argument holding the directory fd the path is relative to (None: the cwd).
    pub dirfd: Option<usize>,
    /// The argument holding the path pointer (for `Op::List`, the fd).
    pub path: usize,
    /// The argument holding flags, if any.
    pub flags: Option<usize>,
}

const fn sys(
    nr: libc::c_long,
    name: &'static str,
    op: Op,
    dirfd: Option<usize>,
    path: usize,
    flags: Option<usize>,
) -> Sys {
    Sys {
        #[allow(clippy::unnecessary_cast)] // c_long is i32 on no supported target, but is a C type
        nr: nr as i64,
        name,
        op,
        dirfd,
        path,
        flags,
    }
}

/// The calls every architecture has (the `*at` generation).
macro_rules! common_calls {
    () => {
        [
            sys(libc::SYS_openat, "openat", Op::Open, Some(0), 1, Some(2)),
            sys(
                libc::SYS_openat2,
                "openat2",
                Op::OpenHow,
                Some(0),
                1,
                Some(2),
            ),
            sys(libc::SYS_execve, "execve", Op::Exec, None, 0, None),
            sys(
                libc::SYS_execveat,
                "execveat",
                Op::Exec,
                Some(0),
                1,
                Some(4),
            ),
            sys(
                libc::SYS_newfstatat,
                "newfstatat",
                Op::Stat,
                Some(0),
                1,
                Some(3),
            ),
            sys(libc::SYS_statx, "statx", Op::Stat, Some(0), 1, Some(2)),
            sys(
                libc::SYS_faccessat,
                "faccessat",
                Op::Access,
                Some(0),
                1,
                None,
            ),
            sys(
                libc::SYS_faccessat2,
                "faccessat2",
                Op::Access,
                Some(0),
                1,
                Some(3),
            ),
            sys(
                libc::SYS_readlinkat,
                "readlinkat",
                Op::Readlink,
                Some(0),
                1,
                None,
            ),
            sys(libc::SYS_chdir, "chdir", Op::Chdir, None, 0, None),
            sys(libc::SYS_fchdir, "fchdir", Op::Fchdir, None, 0, None),
            sys(libc::SYS_getdents64, "getdents64", Op::List, None, 0, None),
            sys(libc::SYS_mkdirat, "mkdirat", Op::Create, Some(0), 1, None),
            sys(libc::SYS_renameat, "renameat", Op::Create, Some(2), 3, None),
            sys(
                libc::SYS_renameat2,
                "renameat2",
                Op::Create,
                Some(2),
                3,
                None,
            ),
            sys(libc::SYS_linkat, "linkat", Op::Create, Some(2), 3, None),
            sys(
                libc::SYS_symlinkat,
                "symlinkat",
                Op::Create,
                Some(1),
                2,
                None,
            ),
        ]
    };
}

/// `AUDIT_ARCH_X86_64` (linux/audit.h: EM_X86_64 | 64-bit | little-endian).
#[cfg(target_arch = "x86_64")]
pub(crate) const NATIVE_ARCH: u32 = 0xC000_003E;
/// `AUDIT_ARCH_AARCH64` (EM_AARCH64 | 64-bit | little-endian).
#[cfg(target_arch = "aarch64")]
pub(crate) const NATIVE_ARCH: u32 = 0xC000_00B7;

/// x86-64's x32 ABI marks its numbers with this bit; the filter hands them to the tracer,
/// which reports them as not understood instead of misreading them as x86-64 calls.
#[cfg(target_arch = "x86_64")]
pub(crate) const X32_SYSCALL_BIT: Option<u32> = Some(0x4000_0000);
#[cfg(target_arch = "aarch64")]
pub(crate) const X32_SYSCALL_BIT: Option<u32> = None;

/// The traced calls of this architecture.
#[cfg(target_arch = "x86_64")]
pub(crate) static CALLS: [Sys; 28] = {
    let c = common_calls!();
    [
        c[0],
        c[1],
        c[2],
        c[3],
        c[4],
        c[5],
        c[6],
        c[7],
        c[8],
        c[9],
        c[10],
        c[11],
        c[12],
        c[13],
        c[14],
        c[15],
        c[16],
        sys(libc::SYS_open, "open", Op::Open, None, 0, Some(1)),
        sys(libc::SYS_creat, "creat", Op::Creat, None, 0, None),
        sys(libc::SYS_stat, "stat", Op::Stat, None, 0, None),
        sys(libc::SYS_lstat, "lstat", Op::Lstat, None, 0, None),
        sys(libc::SYS_access, "access", Op::Access, None, 0, None),
        sys(libc::SYS_readlink, "readlink", Op::Readlink, None, 0, None),
        sys(libc::SYS_getdents, "getdents", Op::List, None, 0, None),
        sys(libc::SYS_mkdir, "mkdir", Op::Create, None, 0, None),
        sys(libc::SYS_rename, "rename", Op::Create, None, 1, None),
        sys(libc::SYS_link, "link", Op::Create, None, 1, None),
        sys(libc::SYS_symlink, "symlink", Op::Create, None, 1, None),
    ]
};

/// The traced calls of this architecture (aarch64 has only the `*at` generation).
#[cfg(target_arch = "aarch64")]
pub(crate) static CALLS: [Sys; 17] = common_calls!();

/// The traced call with this number.
pub(crate) fn lookup(nr: u64) -> Option<&'static Sys> {
    CALLS.iter().find(|s| s.nr as u64 == nr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_and_named() {
        for (i, a) in CALLS.iter().enumerate() {
            assert!(!a.name.is_empty());
            assert!(a.path < 6 && a.dirfd.is_none_or(|d| d < 6));
            for b in &CALLS[i + 1..] {
                assert_ne!(a.nr, b.nr, "{} and {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn lookup_finds_openat_and_not_write() {
        assert_eq!(
            lookup(libc::SYS_openat as u64).map(|s| s.name),
            Some("openat")
        );
        assert!(lookup(libc::SYS_write as u64).is_none());
        assert!(lookup(u64::MAX).is_none());
    }
}
