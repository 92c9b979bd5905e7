//! Test fixtures for this crate's tests and its users' (the `testing` feature): small
//! uncompressed tar layers built in memory that count how often they are opened, as a
//! registry would count downloads.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use husk_oci::{BlobReader, Descriptor, Digest, Layer, OciError};

/// One uncompressed tar layer in memory.
pub struct TarLayer {
    desc: Descriptor,
    /// The layer's tar bytes.
    pub tar: Vec<u8>,
    opens: AtomicUsize,
}

impl TarLayer {
    /// How often the blob was opened.
    pub fn opens(&self) -> usize {
        self.opens.load(Ordering::SeqCst)
    }
}

/// A tar entry: a file with content (mode 0644), a file of `n` bytes `x`, a directory
/// with its mode, a symlink or a hard link (name, target).
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Sized(&'a str, usize),
    Dir(&'a str, u32),
    Link(&'a str, &'a str),
    Hard(&'a str, &'a str),
}

/// A layer of `entries`, in order.
///
/// # Panics
/// When the tar builder rejects an entry (a test's mistake).
pub fn layer(entries: &[Entry]) -> TarLayer {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        match e {
            Entry::File(name, data) => {
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                b.append_data(&mut h, name, *data).unwrap();
            }
            Entry::Sized(name, size) => {
                h.set_size(*size as u64);
                h.set_mode(0o644);
                h.set_cksum();
                b.append_data(&mut h, name, std::io::repeat(b'x').take(*size as u64))
                    .unwrap();
            }
            Entry::Dir(name, mode) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(*mode);
                h.set_cksum();
                b.append_data(&mut h, name, std::io::empty()).unwrap();
            }
            Entry::Link(name, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                b.append_link(&mut h, name, target).unwrap();
            }
            Entry::Hard(name, target) => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                h.set_mode(0o644);
                b.append_link(&mut h, name, target).unwrap();
            }
        }
    }
    let tar = b.into_inner().unwrap();
    let desc = Descriptor::for_bytes(husk_oci::media::OCI_LAYER_TAR, &tar);
    TarLayer {
        desc,
        tar,
        opens: AtomicUsize::new(0),
    }
}

impl Layer for TarLayer {
    fn descriptor(&self) -> &Descriptor {
        &self.desc
    }
    fn diff_id(&self) -> Option<&Digest> {
        None
    }
    fn open_compressed(&self) -> Result<BlobReader<'_>, OciError> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(self.tar.as_slice()))
    }
}
