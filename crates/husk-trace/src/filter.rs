//! The seccomp-bpf program installed in the traced child before it executes the program.
//!
//! Built by hand from libc's constants rather than with `seccompiler`: the program is a
//! straight list of about thirty comparisons that `syscalls::CALLS` fully determines, and
//! writing it out keeps the two checks seccompiler would hide explicit: a call made in a
//! foreign architecture (a 32-bit program on x86-64, or x32 numbers) is handed to the
//! tracer (`SECCOMP_RET_TRACE`), which reports it as not understood instead of misreading
//! its numbers. One fewer dependency in the child's async-signal-safe path, too.

use crate::syscalls::{CALLS, NATIVE_ARCH, Op, X32_SYSCALL_BIT};

/// Offsets in `struct seccomp_data`: `int nr; __u32 arch; ...`.
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;

const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const JSET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// Offset of the low 32 bits of argument `i` (`__u64 args[6]` after `nr`, `arch` and the
/// instruction pointer; both supported architectures are little-endian).
fn arg_low(i: usize) -> u32 {
    16 + 8 * i as u32
}

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The filter: TRACE for the calls in `CALLS` and for any foreign-architecture call,
/// ALLOW for everything else. The last instruction is `RET TRACE`, the one before it
/// `RET ALLOW`; every comparison jumps forward to one of them.
///
/// A stat call with AT_EMPTY_PATH is glibc's `fstat(fd)` (it names no path, and it is by
/// far the most frequent file call), so it is allowed without a stop.
pub(crate) fn program() -> Vec<libc::sock_filter> {
    let mut p = Vec::with_capacity(CALLS.len() + 8);
    p.push(stmt(LD_W_ABS, OFFSET_ARCH));
    // Patched below: jump to TRACE when the arch differs.
    p.push(jump(JEQ_K, NATIVE_ARCH, 0, 0));
    let arch_check = p.len() - 1;
    p.push(stmt(LD_W_ABS, OFFSET_NR));
    // (instruction, patch jt (else jf), to TRACE (else ALLOW))
    let mut patches = vec![(arch_check, false, true)];
    if let Some(bit) = X32_SYSCALL_BIT {
        p.push(jump(JGE_K, bit, 0, 0));
        patches.push((p.len() - 1, true, true));
    }
    for call in &CALLS {
        match call.flags {
            Some(flags) if call.op == Op::Stat => {
                p.push(jump(JEQ_K, call.nr as u32, 0, 2));
                p.push(stmt(LD_W_ABS, arg_low(flags)));
                p.push(jump(JSET_K, libc::AT_EMPTY_PATH as u32, 0, 0));
                patches.push((p.len() - 1, true, false));
                patches.push((p.len() - 1, false, true));
            }
            _ => {
                p.push(jump(JEQ_K, call.nr as u32, 0, 0));
                patches.push((p.len() - 1, true, true));
            }
        }
    }
    p.push(stmt(RET_K, libc::SECCOMP_RET_ALLOW));
    p.push(stmt(RET_K, libc::SECCOMP_RET_TRACE));
    let trace_at = p.len() - 1;
    for (at, on_true, to_trace) in patches {
        // Jump offsets count from the next instruction; the program is short enough
        // (asserted in the tests) for every offset to fit in a u8.
        let target = if to_trace { trace_at } else { trace_at - 1 };
        let offset = u8::try_from(target - at - 1).unwrap_or(u8::MAX);
        if on_true {
            p[at].jt = offset;
        } else {
            p[at].jf = offset;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the program on one `(nr, arch)` the way the kernel would.
    fn run(p: &[libc::sock_filter], nr: u32, arch: u32) -> u32 {
        run_args(p, nr, arch, [0; 6])
    }

    fn run_args(p: &[libc::sock_filter], nr: u32, arch: u32, args: [u32; 6]) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = p[pc];
            match i.code {
                LD_W_ABS => {
                    acc = match i.k {
                        OFFSET_NR => nr,
                        OFFSET_ARCH => arch,
                        k => args[(k as usize - 16) / 8],
                    }
                }
                JEQ_K | JGE_K | JSET_K => {
                    let hit = match i.code {
                        JEQ_K => acc == i.k,
                        JGE_K => acc >= i.k,
                        _ => acc & i.k != 0,
                    };
                    pc += usize::from(if hit { i.jt } else { i.jf });
                }
                RET_K => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn traces_the_table_and_allows_the_rest() {
        let p = program();
        assert!(p.len() < 255);
        for c in &CALLS {
            assert_eq!(
                run(&p, c.nr as u32, NATIVE_ARCH),
                libc::SECCOMP_RET_TRACE,
                "{}",
                c.name
            );
        }
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_mmap,
            libc::SYS_close,
        ] {
            assert_eq!(run(&p, nr as u32, NATIVE_ARCH), libc::SECCOMP_RET_ALLOW);
        }
    }

    #[test]
    fn fstat_through_empty_path_is_not_stopped() {
        let p = program();
        let nr = libc::SYS_newfstatat as u32;
        let empty = libc::AT_EMPTY_PATH as u32;
        assert_eq!(
            run_args(&p, nr, NATIVE_ARCH, [3, 0, 0, empty, 0, 0]),
            libc::SECCOMP_RET_ALLOW
        );
        let nofollow = libc::AT_SYMLINK_NOFOLLOW as u32;
        assert_eq!(
            run_args(&p, nr, NATIVE_ARCH, [3, 0, 0, nofollow, 0, 0]),
            libc::SECCOMP_RET_TRACE
        );
        let statx = libc::SYS_statx as u32;
        assert_eq!(
            run_args(&p, statx, NATIVE_ARCH, [3, 0, empty, 0, 0, 0]),
            libc::SECCOMP_RET_ALLOW
        );
        // A call after the stat checks still sees its own number.
        let last = CALLS[CALLS.len() - 1].nr as u32;
        assert_eq!(run(&p, last, NATIVE_ARCH), libc::SECCOMP_RET_TRACE);
    }

    #[test]
    fn foreign_architectures_go_to_the_tracer() {
        let p = program();
        // AUDIT_ARCH_I386: a 32-bit program's read(2) must not pass as x86-64's.
        assert_eq!(run(&p, 3, 0x4000_0003), libc::SECCOMP_RET_TRACE);
        if let Some(bit) = X32_SYSCALL_BIT {
            assert_eq!(run(&p, bit | 2, NATIVE_ARCH), libc::SECCOMP_RET_TRACE);
        }
    }
}
