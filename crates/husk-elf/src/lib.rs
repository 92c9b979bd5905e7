//! husk-elf
