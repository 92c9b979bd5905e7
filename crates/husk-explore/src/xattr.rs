//! Extended attributes of an entry, and the file capabilities `security.capability` holds.
//!
//! Layers carry extended attributes as PAX records `SCHILY.xattr.NAME=VALUE` (what Go's
//! archive/tar, and so docker, containerd, podman and buildah, read and write; the runtimes
//! set exactly these when they unpack a layer). The value is raw bytes. The one attribute
//! husk reads further is `security.capability`: a `vfs_cap_data` blob that grants the
//! program capabilities when it is executed, as a setuid bit grants root, invisibly to a
//! scan for mode bits. [`Xattrs::capabilities`] decodes it into [`FileCaps`], whose
//! `Display` is what `getcap` prints (`cap_net_bind_service+ep`).
//!
//! Untrusted input: a name or value the kernel could not hold (names of 1 to 255 bytes,
//! values up to 64 KiB) is refused by the reader, and a malformed capability blob decodes
//! to a [`CapError`] (the kernel refuses to execute such a file), never a panic.

use std::fmt;

/// PAX record key prefix of an extended attribute.
pub const PAX_XATTR_PREFIX: &str = "SCHILY.xattr.";

/// The attribute that holds file capabilities.
pub const CAPABILITY_XATTR: &str = "security.capability";

/// Longest attribute name Linux accepts (`XATTR_NAME_MAX`).
pub const MAX_XATTR_NAME: usize = 255;

/// Largest attribute value Linux accepts (`XATTR_SIZE_MAX`).
pub const MAX_XATTR_VALUE: usize = 64 * 1024;

/// The extended attributes of one entry: (name, value) sorted by name, names unique.
/// Most entries have none, so nodes hold an `Option<Box<Xattrs>>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Xattrs(Vec<(String, Vec<u8>)>);

impl Xattrs {
    /// Set `name` to `value` (a later record for the same name wins, as in Go's reader).
    pub fn insert(&mut self, name: String, value: Vec<u8>) {
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(&name)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (name, value)),
        }
    }

    /// The value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].1.as_slice())
    }

    /// (name, value), sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }

    /// Bytes of all the names and values (what the view's budget counts).
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.0.iter().map(|(n, v)| (n.len() + v.len()) as u64).sum()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The file capabilities, when there is a `security.capability` attribute: decoded, or
    /// why the blob is malformed.
    #[must_use]
    pub fn capabilities(&self) -> Option<Result<FileCaps, CapError>> {
        self.get(CAPABILITY_XATTR).map(FileCaps::decode)
    }

    /// `None` for an empty set (what nodes hold for "no attributes").
    #[must_use]
    pub fn boxed(self) -> Option<Box<Xattrs>> {
        (!self.is_empty()).then(|| Box::new(self))
    }
}

/// The capability names of linux/capability.h, by bit number (`CAP_LAST_CAP` is 40).
pub const CAP_NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// The name of capability `bit` (`cap_41` for a bit linux/capability.h does not name yet;
/// the kernel ignores those).
#[must_use]
pub fn cap_name(bit: u32) -> String {
    CAP_NAMES
        .get(bit as usize)
        .map_or_else(|| format!("cap_{bit}"), |n| (*n).to_owned())
}

/// The bit of a capability name (`cap_setuid` → 7).
#[must_use]
pub fn cap_bit(name: &str) -> Option<u32> {
    CAP_NAMES.iter().position(|n| *n == name).map(|i| i as u32)
}

const VFS_CAP_REVISION_MASK: u32 = 0xFF00_0000;
const VFS_CAP_FLAGS_EFFECTIVE: u32 = 0x0000_0001;
const VFS_CAP_REVISION_1: u32 = 0x0100_0000;
const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
const VFS_CAP_REVISION_3: u32 = 0x0300_0000;
/// `XATTR_CAPS_SZ_1`, `_2`, `_3`: the only sizes the kernel accepts for each revision.
const SZ_1: usize = 4 + 8;
const SZ_2: usize = 4 + 16;
const SZ_3: usize = 4 + 16 + 4;

/// Decoded `vfs_cap_data` (linux/capability.h): the file's permitted and inheritable
/// capability sets (bit `n` is capability `n`), its effective flag, and for revision 3 the
/// user id that is root in the namespace the capabilities apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileCaps {
    /// 1, 2 or 3.
    pub revision: u8,
    pub permitted: u64,
    pub inheritable: u64,
    /// The program starts with its permitted capabilities effective (the `e` of `+ep`).
    pub effective: bool,
    /// Revision 3 only: the capabilities apply in a user namespace whose root is this uid.
    pub rootid: Option<u32>,
}

/// Why a `security.capability` value is not a `vfs_cap_data` the kernel accepts (it then
/// refuses to execute the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    #[error("{0} bytes, too short for a vfs_cap_data header")]
    TooShort(usize),
    #[error("unknown revision {0:#010x}")]
    Revision(u32),
    #[error("revision {revision} is {expected} bytes, this one is {len}")]
    Size {
        revision: u8,
        expected: usize,
        len: usize,
    },
}

fn le32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

impl FileCaps {
    /// Decode a `security.capability` value as the kernel does
    /// (`get_vfs_caps_from_disk`): little-endian `magic_etc` (revision and the effective
    /// flag), then (permitted, inheritable) as one 32-bit pair for revision 1 and two for
    /// revisions 2 and 3, then for revision 3 the root uid. The size must be exactly the
    /// revision's. Bits the kernel does not know are kept (and named `cap_N`).
    ///
    /// # Errors
    /// A [`CapError`] for a blob of the wrong size or an unknown revision.
    pub fn decode(b: &[u8]) -> Result<FileCaps, CapError> {
        if b.len() < 4 {
            return Err(CapError::TooShort(b.len()));
        }
        let magic = le32(b, 0);
        let (revision, expected) = match magic & VFS_CAP_REVISION_MASK {
            VFS_CAP_REVISION_1 => (1, SZ_1),
            VFS_CAP_REVISION_2 => (2, SZ_2),
            VFS_CAP_REVISION_3 => (3, SZ_3),
            other => return Err(CapError::Revision(other)),
        };
        if b.len() != expected {
            return Err(CapError::Size {
                revision,
                expected,
                len: b.len(),
            });
        }
        let (mut permitted, mut inheritable) = (u64::from(le32(b, 4)), u64::from(le32(b, 8)));
        if revision >= 2 {
            permitted |= u64::from(le32(b, 12)) << 32;
            inheritable |= u64::from(le32(b, 16)) << 32;
        }
        Ok(FileCaps {
            revision,
            permitted,
            inheritable,
            effective: magic & VFS_CAP_FLAGS_EFFECTIVE != 0,
            rootid: (revision == 3).then(|| le32(b, 20)),
        })
    }

    /// The blob of these capabilities (revision 2, or 3 with a root id): what `setcap`
    /// writes. For tests and fixtures.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let rev = if self.rootid.is_some() {
            VFS_CAP_REVISION_3
        } else {
            VFS_CAP_REVISION_2
        };
        let magic = rev | u32::from(self.effective);
        let mut out = Vec::with_capacity(SZ_3);
        for w in [
            magic,
            self.permitted as u32,
            self.inheritable as u32,
            (self.permitted >> 32) as u32,
            (self.inheritable >> 32) as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        if let Some(r) = self.rootid {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out
    }

    /// Capabilities named in `names` (`["cap_setuid"]`), revision 2, `+ep` (or `+eip` with
    /// `inheritable`). For tests and fixtures.
    ///
    /// # Panics
    /// On a name that is not in [`CAP_NAMES`].
    #[must_use]
    pub fn of(names: &[&str], inheritable: bool) -> FileCaps {
        let bits = names.iter().fold(0u64, |acc, n| {
            acc | 1 << cap_bit(n).unwrap_or_else(|| panic!("unknown capability {n}"))
        });
        FileCaps {
            revision: 2,
            permitted: bits,
            inheritable: if inheritable { bits } else { 0 },
            effective: true,
            rootid: None,
        }
    }

    /// Every capability the file grants in some set (permitted or inheritable), by bit.
    #[must_use]
    pub fn any(&self) -> u64 {
        self.permitted | self.inheritable
    }

    /// The names of the capabilities in [`FileCaps::any`], by bit number.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        bits(self.any()).map(cap_name).collect()
    }

    /// Bits set that linux/capability.h does not name (the kernel drops them).
    #[must_use]
    pub fn unknown_bits(&self) -> u64 {
        self.any() & !((1u64 << CAP_NAMES.len()) - 1)
    }
}

fn bits(set: u64) -> impl Iterator<Item = u32> {
    (0..64).filter(move |b| set & (1 << b) != 0)
}

/// As `getcap` prints it: the capabilities grouped by the sets they are in, each group
/// `cap_a,cap_b+FLAGS` with FLAGS from `e`, `i`, `p`, groups separated by a space
/// (`cap_net_bind_service+ep`, `cap_chown+eip cap_setuid+ep`); `=` for no capabilities
/// (with `e` alone: `=e`). A revision 3 root id follows as ` [rootid=N]`.
impl fmt::Display for FileCaps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Flags of each capability, then capabilities grouped by equal flags, in the order
        // their first member appears.
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for b in bits(self.any()) {
            let mut flags = String::new();
            let p = self.permitted & (1 << b) != 0;
            if self.effective && p {
                flags.push('e');
            }
            if self.inheritable & (1 << b) != 0 {
                flags.push('i');
            }
            if p {
                flags.push('p');
            }
            match groups.iter_mut().find(|(fl, _)| *fl == flags) {
                Some((_, names)) => names.push(cap_name(b)),
                None => groups.push((flags, vec![cap_name(b)])),
            }
        }
        if groups.is_empty() {
            f.write_str(if self.effective { "=e" } else { "=" })?;
        }
        for (i, (flags, names)) in groups.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}+{flags}", names.join(","))?;
        }
        if let Some(r) = self.rootid {
            write!(f, " [rootid={r}]")?;
        }
        Ok(())
    }
}

/// A capability attribute as shown to users: the decoded capabilities, or
/// `malformed security.capability (WHY)`.
#[must_use]
pub fn describe_caps(caps: &Result<FileCaps, CapError>) -> String {
    match caps {
        Ok(c) => c.to_string(),
        Err(e) => format!("malformed {CAPABILITY_XATTR} ({e})"),
    }
}

/// An attribute value as `getfattr -e hex` prints it: `0x` and lower-case hex.
#[must_use]
pub fn hex_value(v: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * v.len());
    s.push_str("0x");
    for b in v {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `setcap cap_net_bind_service+ep` writes (revision 2).
    const NET_BIND_EP: [u8; 20] = [
        0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn names_are_the_41_of_linux_capability_h() {
        assert_eq!(CAP_NAMES.len(), 41);
        assert_eq!(cap_bit("cap_setuid"), Some(7));
        assert_eq!(cap_bit("cap_net_bind_service"), Some(10));
        assert_eq!(cap_bit("cap_sys_admin"), Some(21));
        assert_eq!(cap_bit("cap_checkpoint_restore"), Some(40));
        assert_eq!(cap_name(41), "cap_41");
        let unique: std::collections::BTreeSet<_> = CAP_NAMES.iter().collect();
        assert_eq!(unique.len(), 41);
    }

    #[test]
    fn setcap_blob_decodes_like_getcap_prints_it() {
        let c = FileCaps::decode(&NET_BIND_EP).unwrap();
        assert_eq!(
            c,
            FileCaps {
                revision: 2,
                permitted: 1 << 10,
                inheritable: 0,
                effective: true,
                rootid: None
            }
        );
        assert_eq!(c.to_string(), "cap_net_bind_service+ep");
        assert_eq!(c.names(), ["cap_net_bind_service"]);
        assert_eq!(c.encode(), NET_BIND_EP);
    }

    #[test]
    fn revision_1_has_only_the_low_32_bits() {
        let mut b = vec![0x00, 0x00, 0x00, 0x01];
        b.extend_from_slice(&(1u32 << 7).to_le_bytes());
        b.extend_from_slice(&(1u32 << 7).to_le_bytes());
        let c = FileCaps::decode(&b).unwrap();
        assert_eq!((c.revision, c.effective, c.rootid), (1, false, None));
        assert_eq!(c.to_string(), "cap_setuid+ip");
    }

    #[test]
    fn revision_3_carries_its_root_id_and_high_bits() {
        let caps = FileCaps {
            revision: 3,
            permitted: 1 << 21 | 1 << 39,
            inheritable: 1 << 39,
            effective: true,
            rootid: Some(100_000),
        };
        let blob = caps.encode();
        assert_eq!(blob.len(), 24);
        assert_eq!(blob[3], 0x03);
        let c = FileCaps::decode(&blob).unwrap();
        assert_eq!(c, caps);
        assert_eq!(c.names(), ["cap_sys_admin", "cap_bpf"]);
        assert_eq!(
            c.to_string(),
            "cap_sys_admin+ep cap_bpf+eip [rootid=100000]"
        );
    }

    #[test]
    fn unknown_bits_are_kept_and_named_by_number() {
        let caps = FileCaps {
            revision: 2,
            permitted: 1 << 10 | 1 << 41 | 1 << 63,
            inheritable: 0,
            effective: false,
            rootid: None,
        };
        let c = FileCaps::decode(&caps.encode()).unwrap();
        assert_eq!(c.unknown_bits(), 1 << 41 | 1 << 63);
        assert_eq!(c.to_string(), "cap_net_bind_service,cap_41,cap_63+p");
    }

    #[test]
    fn empty_sets_print_as_getcap_does() {
        let mut c = FileCaps::of(&[], false);
        assert_eq!(c.to_string(), "=e");
        c.effective = false;
        assert_eq!(c.to_string(), "=");
    }

    #[test]
    fn malformed_blobs_are_errors_never_panics() {
        assert_eq!(FileCaps::decode(&[]), Err(CapError::TooShort(0)));
        assert_eq!(FileCaps::decode(&[1, 0, 0]), Err(CapError::TooShort(3)));
        // Every truncation of a valid v2 and v3 blob.
        let v3 = FileCaps::of(&["cap_setuid"], false);
        let v3 = FileCaps {
            rootid: Some(0),
            ..v3
        }
        .encode();
        for blob in [&NET_BIND_EP[..], &v3[..]] {
            for n in 0..blob.len() {
                assert!(FileCaps::decode(&blob[..n]).is_err(), "{n} bytes");
            }
        }
        // One byte too many.
        let mut long = NET_BIND_EP.to_vec();
        long.push(0);
        assert_eq!(
            FileCaps::decode(&long),
            Err(CapError::Size {
                revision: 2,
                expected: 20,
                len: 21
            })
        );
        // A v2 header on a v1-sized blob, a v1 header on a v2-sized one.
        let mut v1sized = NET_BIND_EP[..12].to_vec();
        assert!(matches!(
            FileCaps::decode(&v1sized),
            Err(CapError::Size { revision: 2, .. })
        ));
        v1sized[3] = 0x01;
        assert!(FileCaps::decode(&v1sized).is_ok());
        let mut v1header = NET_BIND_EP.to_vec();
        v1header[3] = 0x01;
        assert!(matches!(
            FileCaps::decode(&v1header),
            Err(CapError::Size { revision: 1, .. })
        ));
        // Wrong magic: revision 0, 4, 0xff, and big-endian.
        for top in [0x00u8, 0x04, 0xff] {
            let mut b = NET_BIND_EP.to_vec();
            b[3] = top;
            assert_eq!(
                FileCaps::decode(&b),
                Err(CapError::Revision(u32::from(top) << 24))
            );
        }
        let mut be = NET_BIND_EP.to_vec();
        be[..4].copy_from_slice(&0x0200_0001u32.to_be_bytes());
        assert!(FileCaps::decode(&be).is_err());
        // Arbitrary bytes of every length up to 64: no panic.
        for len in 0..64 {
            let b: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            let _ = FileCaps::decode(&b);
        }
        let e = FileCaps::decode(&[0; 20]).unwrap_err();
        assert_eq!(
            describe_caps(&Err(e)),
            "malformed security.capability (unknown revision 0x00000000)"
        );
    }

    #[test]
    fn attributes_stay_sorted_and_the_last_value_wins() {
        let mut x = Xattrs::default();
        x.insert("user.b".into(), b"2".to_vec());
        x.insert(CAPABILITY_XATTR.into(), NET_BIND_EP.to_vec());
        x.insert("user.b".into(), b"3".to_vec());
        assert_eq!(
            x.names().collect::<Vec<_>>(),
            ["security.capability", "user.b"]
        );
        assert_eq!(x.get("user.b"), Some(&b"3"[..]));
        assert_eq!(
            x.capabilities().unwrap().unwrap().to_string(),
            "cap_net_bind_service+ep"
        );
        assert_eq!(hex_value(b"\x01\xab"), "0x01ab");
        assert!(Xattrs::default().boxed().is_none());
    }
}
