//! Unit tests across modules, on synthetic ELF files and [`crate::FakeFs`].

mod elf;
mod resolve;
