//! A deterministic tar writer for image archives (oci-archive, docker-archive): entries in
//! the order given, mode 0644/0755, owner 0:0, mtime 0, so the same image always gives the
//! same archive bytes.

use std::io::{self, Read, Write};

pub(crate) struct ArchiveTar<W: Write> {
    builder: tar::Builder<W>,
}

impl<W: Write> ArchiveTar<W> {
    pub(crate) fn new(w: W) -> Self {
        let mut builder = tar::Builder::new(w);
        builder.mode(tar::HeaderMode::Deterministic);
        ArchiveTar { builder }
    }

    fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h
    }

    pub(crate) fn dir(&mut self, name: &str) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Directory, 0, 0o755);
        self.builder.append_data(&mut h, name, io::empty())
    }

    pub(crate) fn file(&mut self, name: &str, size: u64, data: impl Read) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Regular, size, 0o644);
        // Guard against a reader that yields more or less than `size` bytes.
        let mut exact = ExactReader {
            inner: data.take(size),
            left: size,
        };
        self.builder.append_data(&mut h, name, &mut exact)?;
        if exact.left != 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{name}: source ended {} bytes early", exact.left),
            ));
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> io::Result<W> {
        self.builder.into_inner()
    }
}

struct ExactReader<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left -= n as u64;
        if n == 0 && self.left != 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "source ended before its declared size",
            ));
        }
        Ok(n)
    }
}
