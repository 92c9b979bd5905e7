//! Reading a traced process: a NUL-terminated path from its memory (bounded by PATH_MAX),
//! and turning a path relative to a directory fd or the cwd into an absolute one through
//! `/proc/PID/fd/N` and `/proc/PID/cwd` (read at the call's entry, before it runs).

use std::io::IoSliceMut;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::sys::uio::{RemoteIoVec, process_vm_readv};
use nix::unistd::Pid;

/// The longest path the kernel accepts, terminator included.
const PATH_MAX: usize = libc::PATH_MAX as usize;
const PAGE: usize = 4096;

/// The C string at `addr` in `pid`'s memory, without its NUL; None if unreadable or longer
/// than PATH_MAX (the kernel would refuse it with ENAMETOOLONG anyway).
pub(crate) fn read_cstring(pid: Pid, addr: u64) -> Option<Vec<u8>> {
    if addr == 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut at = usize::try_from(addr).ok()?;
    while out.len() < PATH_MAX {
        // Never cross a page in one read: the next page may be unmapped.
        let chunk = (PAGE - at % PAGE).min(PATH_MAX - out.len());
        let mut buf = vec![0u8; chunk];
        let n = read_chunk(pid, at, &mut buf)?;
        if let Some(end) = buf[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..end]);
            return Some(out);
        }
        out.extend_from_slice(&buf[..n]);
        at = at.checked_add(n)?;
    }
    None
}

fn read_chunk(pid: Pid, at: usize, buf: &mut [u8]) -> Option<usize> {
    let len = buf.len();
    let remote = [RemoteIoVec { base: at, len }];
    match process_vm_readv(pid, &mut [IoSliceMut::new(buf)], &remote) {
        Ok(0) | Err(_) => peek_chunk(pid, at, buf),
        Ok(n) => Some(n),
    }
}

/// Fallback where process_vm_readv is refused: PTRACE_PEEKDATA, one word at a time.
fn peek_chunk(pid: Pid, at: usize, buf: &mut [u8]) -> Option<usize> {
    let word = std::mem::size_of::<libc::c_long>();
    let mut got = 0;
    while got < buf.len() {
        let addr = (at + got) as nix::sys::ptrace::AddressType;
        let w = nix::sys::ptrace::read(pid, addr).ok()?.to_ne_bytes();
        let n = word.min(buf.len() - got);
        buf[got..got + n].copy_from_slice(&w[..n]);
        got += n;
        if w[..n].contains(&0) {
            break;
        }
    }
    Some(got)
}

/// A u64 (e.g. `open_how.flags`) at `addr` in `pid`'s memory.
pub(crate) fn read_u64(pid: Pid, addr: u64) -> Option<u64> {
    let mut buf = [0u8; 8];
    let at = usize::try_from(addr).ok()?;
    let remote = [RemoteIoVec { base: at, len: 8 }];
    match process_vm_readv(pid, &mut [IoSliceMut::new(&mut buf)], &remote) {
        Ok(8) => Some(u64::from_ne_bytes(buf)),
        _ => {
            let w = nix::sys::ptrace::read(pid, at as nix::sys::ptrace::AddressType).ok()?;
            Some(w as u64)
        }
    }
}

/// The directory a relative path of `pid` starts from: its cwd for AT_FDCWD, else what
/// its fd `dirfd` names. None when that is not a path (a pipe, a deleted directory).
pub(crate) fn base_dir(pid: Pid, dirfd: Option<i32>) -> Option<PathBuf> {
    let link = match dirfd {
        None | Some(libc::AT_FDCWD) => format!("/proc/{pid}/cwd"),
        Some(fd) => format!("/proc/{pid}/fd/{fd}"),
    };
    proc_link(Path::new(&link))
}

/// What a `/proc` magic link names, if it is a real absolute path.
pub(crate) fn proc_link(link: &Path) -> Option<PathBuf> {
    let target = std::fs::read_link(link).ok()?;
    let bytes = target.as_os_str().as_bytes();
    if !bytes.starts_with(b"/") || bytes.ends_with(b" (deleted)") {
        return None;
    }
    Some(target)
}

/// `raw` made absolute against `base` (when relative), with `.` and repeated slashes
/// dropped. `..` is kept: only a walk on the host can tell where it leads past a symlink.
pub(crate) fn absolute(base: Option<&Path>, raw: &[u8]) -> Option<PathBuf> {
    let raw = Path::new(std::ffi::OsStr::from_bytes(raw));
    let joined = if raw.is_absolute() {
        raw.to_path_buf()
    } else {
        base?.join(raw)
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => out.push(".."),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_joins_and_cleans() {
        let base = Path::new("/srv/app");
        assert_eq!(
            absolute(Some(base), b"data/./x"),
            Some("/srv/app/data/x".into())
        );
        assert_eq!(
            absolute(Some(base), b"/etc//hosts"),
            Some("/etc/hosts".into())
        );
        assert_eq!(
            absolute(Some(base), b"../lib"),
            Some("/srv/app/../lib".into())
        );
        assert_eq!(absolute(None, b"rel"), None);
        assert_eq!(absolute(None, b"/"), Some("/".into()));
    }

    #[test]
    fn reads_own_memory_strings_bounded() {
        let me = Pid::this();
        let s = b"/usr/lib/x\0junk".to_vec();
        assert_eq!(
            read_cstring(me, s.as_ptr() as u64),
            Some(b"/usr/lib/x".to_vec())
        );
        // No terminator within PATH_MAX: refused, not read forever.
        let long = vec![b'a'; PATH_MAX * 2];
        assert_eq!(read_cstring(me, long.as_ptr() as u64), None);
        assert_eq!(read_cstring(me, 0), None);
        assert_eq!(read_cstring(me, 8), None);
        let v = 0x1234_5678_9abc_def0u64;
        assert_eq!(read_u64(me, std::ptr::addr_of!(v) as u64), Some(v));
    }

    #[test]
    fn proc_links_that_are_not_paths_are_refused() {
        assert_eq!(
            proc_link(Path::new("/proc/self/cwd")),
            std::env::current_dir().ok()
        );
        assert_eq!(proc_link(Path::new("/nonexistent/link")), None);
    }
}
