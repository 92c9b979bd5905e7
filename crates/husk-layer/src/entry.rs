//! [`EntryKind`]: what kind of tar entry a path is, the one definition husk has.
//!
//! The layer plan (what husk writes), husk-explore's reader (what a layer holds) and its
//! merged view, and husk-audit's rules all speak this type. What only one side needs
//! travels beside the kind, not in another copy of it: the plan's `FileSource` (where a
//! file's bytes come from), the reader's hard-link target, [`Device`] numbers.
//!
//! A symlink carries its target text because every side needs it; a hard link does not
//! (only the reader has its target; the merged view turns a hard link into the file it
//! names).

use crate::ustar::typeflag;

/// What kind of entry a path is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    Dir,
    /// A symlink with its target text as written (relative or absolute, never checked here).
    Symlink(String),
    /// A hard link to another path of the same image; the target travels beside the kind.
    Hardlink,
    /// A character device; its numbers travel beside the kind ([`Device`]).
    Char,
    /// A block device; its numbers travel beside the kind ([`Device`]).
    Block,
    Fifo,
}

impl EntryKind {
    /// A one- or two-word description for messages (`"character device"`).
    #[must_use]
    pub fn noun(&self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "directory",
            EntryKind::Symlink(_) => "symlink",
            EntryKind::Hardlink => "hard link",
            EntryKind::Char => "character device",
            EntryKind::Block => "block device",
            EntryKind::Fifo => "fifo",
        }
    }

    /// The `ls -l` type letter (a hard link is a file: `-`).
    #[must_use]
    pub fn letter(&self) -> char {
        match self {
            EntryKind::File | EntryKind::Hardlink => '-',
            EntryKind::Dir => 'd',
            EntryKind::Symlink(_) => 'l',
            EntryKind::Char => 'c',
            EntryKind::Block => 'b',
            EntryKind::Fifo => 'p',
        }
    }

    /// The tar header's type flag for this kind.
    #[must_use]
    pub fn typeflag(&self) -> u8 {
        match self {
            EntryKind::File => typeflag::REGULAR,
            EntryKind::Dir => typeflag::DIR,
            EntryKind::Symlink(_) => typeflag::SYMLINK,
            EntryKind::Hardlink => typeflag::HARDLINK,
            EntryKind::Char => typeflag::CHAR,
            EntryKind::Block => typeflag::BLOCK,
            EntryKind::Fifo => typeflag::FIFO,
        }
    }

    /// Whether this is a directory.
    #[must_use]
    pub fn is_dir(&self) -> bool {
        *self == EntryKind::Dir
    }

    /// Whether this is a character or block device.
    #[must_use]
    pub fn is_device(&self) -> bool {
        matches!(self, EntryKind::Char | EntryKind::Block)
    }
}

/// The numbers of a character or block device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Device {
    pub major: u32,
    pub minor: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_typeflag_and_noun() {
        let all = [
            EntryKind::File,
            EntryKind::Dir,
            EntryKind::Symlink("t".into()),
            EntryKind::Hardlink,
            EntryKind::Char,
            EntryKind::Block,
            EntryKind::Fifo,
        ];
        let flags: std::collections::BTreeSet<u8> = all.iter().map(EntryKind::typeflag).collect();
        let nouns: std::collections::BTreeSet<&str> = all.iter().map(EntryKind::noun).collect();
        assert_eq!((flags.len(), nouns.len()), (all.len(), all.len()));
        assert!(all.iter().filter(|k| k.is_device()).count() == 2);
    }
}
