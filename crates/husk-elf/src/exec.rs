//! What the kernel's ELF handler (`load_elf_binary`, fs/binfmt_elf.c) makes of a whole
//! file, as far as the file alone decides it.
//!
//! Before the point of no return `execve` fails, and the runtime reports it:
//! - `ENOEXEC` ("exec format error") when `e_type` is neither `ET_EXEC` nor `ET_DYN`, when
//!   `e_phentsize` is not the size of a program header, when there are no program headers
//!   (or more than 64 KiB of them), when the program headers lie past the end of the file,
//!   or when PT_INTERP is shorter than 2 bytes, longer than `PATH_MAX` or not
//!   NUL-terminated;
//! - `EIO` ("input/output error") when PT_INTERP lies past the end of the file (a short
//!   `elf_read`).
//!
//! The loadable segments are mapped after the point of no return: one whose bytes lie
//! past the end of the file does not make `execve` fail; the new program is killed
//! (SIGSEGV when the kernel zeroes the tail of a data segment that is not in the file,
//! SIGBUS when it touches a page past the end). Section headers are never read: a file
//! cut after its last segment runs.
//!
//! The machine (`elf_check_arch`) is left to the caller, which knows the platform. The
//! kernel does not check `EI_CLASS` or `EI_DATA`: it reads the header in its own class
//! and byte order. A file whose `e_ident` names no valid class or byte order is judged
//! in every reading, and refused only when every reading refuses it.

/// Why the kernel will not run an ELF file properly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecProblem {
    /// `execve` fails before anything runs.
    Refused {
        /// `ENOEXEC` or `EIO`.
        errno: &'static str,
        /// The runtime's wording of the error (`exec format error`).
        error: &'static str,
        /// What in the file makes it fail.
        reason: String,
    },
    /// `execve` goes past its point of no return and the program is killed at once, or
    /// as soon as it touches the missing bytes: a loadable segment lies past the end of
    /// the file.
    Truncated {
        /// Where the segment's bytes should end.
        needs: u64,
        /// The file's size.
        size: u64,
    },
}

impl ExecProblem {
    fn enoexec(reason: impl Into<String>) -> ExecProblem {
        ExecProblem::Refused {
            errno: "ENOEXEC",
            error: "exec format error",
            reason: reason.into(),
        }
    }
}

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
/// `PATH_MAX`.
const PATH_MAX: u64 = 4096;

/// The kernel's verdict on the ELF file `bytes` (the whole file), `None` when it loads
/// it. Files without the ELF magic are not this handler's and give `None`.
#[must_use]
pub fn exec_check(bytes: &[u8]) -> Option<ExecProblem> {
    if !crate::is_elf(bytes) {
        return None;
    }
    let classes: &[bool] = match bytes.get(4) {
        Some(1) => &[false],
        Some(2) => &[true],
        _ => &[true, false],
    };
    let orders: &[bool] = match bytes.get(5) {
        Some(1) => &[true],
        Some(2) => &[false],
        _ => &[true, false],
    };
    let mut first = None;
    for &c64 in classes {
        for &le in orders {
            match check(bytes, c64, le) {
                None => return None,
                Some(p) => {
                    first.get_or_insert(p);
                }
            }
        }
    }
    first
}

/// One reading of the file: 64- or 32-bit, little- or big-endian.
fn check(bytes: &[u8], c64: bool, le: bool) -> Option<ExecProblem> {
    // The kernel reads the first 256 bytes into a zeroed buffer: a short file reads as
    // zeros past its end.
    let r = Reader { bytes, le };
    let e_type = r.u16(16);
    if e_type != 2 && e_type != 3 {
        return Some(ExecProblem::enoexec(format!(
            "its ELF type is {e_type}, not an executable (2) or a shared object (3){}",
            if bytes.len() < if c64 { 64 } else { 52 } {
                format!(
                    " (the file has {} bytes, less than an ELF header)",
                    bytes.len()
                )
            } else {
                String::new()
            }
        )));
    }
    let (phoff, phentsize, phnum, want) = if c64 {
        (r.u64(32), r.u16(54), r.u16(56), 56)
    } else {
        (u64::from(r.u32(28)), r.u16(42), r.u16(44), 32)
    };
    if phentsize != want {
        return Some(ExecProblem::enoexec(format!(
            "its program header size is {phentsize}, not {want}"
        )));
    }
    let size = u64::from(phentsize) * u64::from(phnum);
    if size == 0 || size > 65536 {
        return Some(ExecProblem::enoexec(format!(
            "it has {phnum} program headers"
        )));
    }
    let len = bytes.len() as u64;
    if phoff.checked_add(size).is_none_or(|end| end > len) {
        return Some(ExecProblem::enoexec(format!(
            "its program headers (bytes {phoff}..{}) lie past the end of the file ({len} bytes)",
            phoff.saturating_add(size)
        )));
    }
    let phdrs = (0..u64::from(phnum)).map(|i| {
        let at = phoff + i * u64::from(phentsize);
        if c64 {
            (r.u32(at), r.u64(at + 8), r.u64(at + 32))
        } else {
            (
                r.u32(at),
                u64::from(r.u32(at + 4)),
                u64::from(r.u32(at + 16)),
            )
        }
    });
    // Only the first PT_INTERP counts.
    if let Some((_, off, filesz)) = phdrs.clone().find(|(t, _, _)| *t == PT_INTERP)
        && let Some(problem) = check_interp(bytes, off, filesz)
    {
        return Some(problem);
    }
    let needs = phdrs
        .filter(|(t, _, _)| *t == PT_LOAD)
        .map(|(_, off, filesz)| off.saturating_add(filesz))
        .max()
        .unwrap_or(0);
    (needs > len).then_some(ExecProblem::Truncated { needs, size: len })
}

/// The loader's path (PT_INTERP at `off`, `filesz` bytes) as the kernel reads it, before
/// the point of no return: a wrong length is ENOEXEC, bytes past EOF EIO.
fn check_interp(bytes: &[u8], off: u64, filesz: u64) -> Option<ExecProblem> {
    let len = bytes.len() as u64;
    if !(2..=PATH_MAX).contains(&filesz) {
        return Some(ExecProblem::enoexec(format!(
            "its PT_INTERP is {filesz} bytes long"
        )));
    }
    let Some(end) = off.checked_add(filesz).filter(|e| *e <= len) else {
        return Some(ExecProblem::Refused {
            errno: "EIO",
            error: "input/output error",
            reason: format!(
                "its loader's path (PT_INTERP, bytes {off}..{}) lies past the end of the file ({len} bytes)",
                off.saturating_add(filesz)
            ),
        });
    };
    let terminated = usize::try_from(end - 1)
        .ok()
        .and_then(|i| bytes.get(i))
        .is_some_and(|b| *b == 0);
    (!terminated)
        .then(|| ExecProblem::enoexec("its loader's path (PT_INTERP) is not NUL-terminated"))
}

/// Fixed-width reads at file offsets; bytes past the end read as zero.
struct Reader<'a> {
    bytes: &'a [u8],
    le: bool,
}

impl Reader<'_> {
    fn get<const N: usize>(&self, at: u64) -> [u8; N] {
        let mut b = [0u8; N];
        for (i, v) in b.iter_mut().enumerate() {
            *v = usize::try_from(at)
                .ok()
                .and_then(|a| a.checked_add(i))
                .and_then(|a| self.bytes.get(a))
                .copied()
                .unwrap_or(0);
        }
        b
    }
    fn u16(&self, at: u64) -> u16 {
        let b = self.get::<2>(at);
        if self.le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    }
    fn u32(&self, at: u64) -> u32 {
        let b = self.get::<4>(at);
        if self.le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    }
    fn u64(&self, at: u64) -> u64 {
        let b = self.get::<8>(at);
        if self.le {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ElfBuilder;

    #[test]
    fn a_well_formed_file_loads() {
        for b in [
            ElfBuilder::x86_64().interp("/lib64/ld-linux-x86-64.so.2"),
            ElfBuilder::x86_64().e_type(2).no_dynamic(),
            ElfBuilder::i386().interp("/lib/ld-linux.so.2"),
            ElfBuilder::s390x(),
        ] {
            assert_eq!(exec_check(&b.build()), None, "{b:?}");
        }
        // Bytes after the last segment (section headers, debug info) do not matter.
        let mut v = ElfBuilder::x86_64().build();
        v.extend_from_slice(&[0u8; 100]);
        assert_eq!(exec_check(&v), None);
        assert_eq!(exec_check(b"#!/bin/sh\n"), None);
    }

    #[test]
    fn garbage_and_cut_headers_are_refused() {
        let refused = |b: &[u8]| match exec_check(b) {
            Some(ExecProblem::Refused { errno, reason, .. }) => (errno, reason),
            other => panic!("{other:?}"),
        };
        let (errno, reason) = refused(b"\x7fELF garbage");
        assert_eq!(errno, "ENOEXEC");
        assert!(reason.contains("ELF type is 0"), "{reason}");
        let full = ElfBuilder::x86_64()
            .interp("/lib64/ld-linux-x86-64.so.2")
            .build();
        // Cut in the program headers.
        assert!(refused(&full[..100]).1.contains("program headers"));
        // Cut in PT_INTERP's string: a short read, EIO.
        let interp_at = 64 + 3 * 56;
        assert_eq!(refused(&full[..interp_at + 4]).0, "EIO");
        // A relocatable object.
        assert_eq!(
            refused(&ElfBuilder::x86_64().e_type(1).build()).0,
            "ENOEXEC"
        );
    }

    #[test]
    fn a_segment_past_the_end_is_truncated() {
        let full = ElfBuilder::x86_64()
            .interp("/lib64/ld-linux-x86-64.so.2")
            .needed("libc.so.6")
            .build();
        let cut = &full[..full.len() - 8];
        assert_eq!(
            exec_check(cut),
            Some(ExecProblem::Truncated {
                needs: full.len() as u64,
                size: cut.len() as u64
            })
        );
    }

    #[test]
    fn an_invalid_class_is_read_as_the_kernel_reads_it() {
        // The kernel ignores EI_CLASS: a 64-bit file with a bad class byte runs.
        let mut v = ElfBuilder::x86_64().build();
        v[4] = 9;
        assert_eq!(exec_check(&v), None);
    }
}
