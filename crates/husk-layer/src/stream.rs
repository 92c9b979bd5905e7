//! Streams a [`LayerPlan`] as an uncompressed tar into any writer.
//!
//! Entries come out sorted by path with implicit parent directories filled in (0755, 0:0),
//! so every parent precedes its children. Host files are read with a size check: the
//! header announces the size seen by `fstat`, and a file that ends early or goes on past it
//! is a [`LayerError::FileChanged`], never a short or long entry. Because the writer runs
//! the plan twice (hash first, compress on a cache miss), each host file's identity and
//! timestamps are fingerprinted on the first run and must match on the second.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::entry::EntryKind;
use crate::error::LayerError;
use crate::paths::ImagePath;
use crate::plan::{Entry, FileSource, LayerPlan};
use crate::tarball::{self, HeaderSpec};

const COPY_BUF: usize = 256 * 1024;

/// What identifies one version of a host file: inode, size and change times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Fingerprint {
    fn of(m: &std::fs::Metadata) -> Fingerprint {
        Fingerprint {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

/// Whether this run records host file fingerprints or checks them against an earlier run.
pub(crate) enum Check<'a> {
    Record(&'a mut Vec<Fingerprint>),
    Verify(&'a [Fingerprint]),
}

/// Write the whole archive (entries and trailer) into `w`; returns the number of entries.
/// Write errors are reported against `out_path`.
///
/// # Errors
/// [`LayerError::HostIo`], [`LayerError::SpecialFile`], [`LayerError::FileChanged`] for host
/// sources, [`LayerError::Output`] for `w`.
pub(crate) fn write_tar<W: Write>(
    plan: &LayerPlan,
    mtime: u64,
    w: &mut W,
    out_path: &Path,
    mut check: Check<'_>,
) -> Result<usize, LayerError> {
    let out = |source| LayerError::Output {
        path: out_path.to_path_buf(),
        source,
    };
    let implicit_dir = Entry::dir();
    let mut all: BTreeMap<ImagePath, &Entry> = BTreeMap::new();
    for (path, entry) in plan.iter() {
        all.insert(path.clone(), entry);
        for ancestor in path.ancestors() {
            all.entry(ancestor).or_insert(&implicit_dir);
        }
    }

    let mut buf = vec![0u8; COPY_BUF];
    let mut host_index = 0usize;
    for (path, entry) in &all {
        let dir_name;
        let mut spec = HeaderSpec {
            name: path.tar_name(),
            typeflag: entry.kind.typeflag(),
            mode: entry.mode,
            uid: entry.uid,
            gid: entry.gid,
            size: 0,
            mtime,
            link: "",
        };
        match &entry.source {
            // Directories and symlinks (the plan holds no other kind without a source).
            None => {
                if entry.kind.is_dir() {
                    dir_name = format!("{}/", path.tar_name());
                    spec.name = &dir_name;
                }
                if let EntryKind::Symlink(target) = &entry.kind {
                    spec.link = target;
                }
                tarball::write_small(w, &spec, &[]).map_err(out)?;
            }
            Some(FileSource::Bytes(data)) => {
                spec.size = data.len() as u64;
                tarball::write_small(w, &spec, data).map_err(out)?;
            }
            Some(FileSource::Host(host)) => {
                let mut file = open_host(host)?;
                let fingerprint = Fingerprint::of(&file.1);
                match &mut check {
                    Check::Record(list) => list.push(fingerprint),
                    Check::Verify(list) => {
                        if list.get(host_index) != Some(&fingerprint) {
                            return Err(LayerError::FileChanged { path: host.clone() });
                        }
                    }
                }
                host_index += 1;
                spec.size = file.1.len();
                w.write_all(&tarball::encode_header(&spec)).map_err(out)?;
                copy_exact(&mut file.0, host, spec.size, w, &mut buf, out_path)?;
                w.write_all(&[0u8; crate::ustar::BLOCK][..tarball::padding(spec.size)])
                    .map_err(out)?;
            }
        }
    }
    w.write_all(&tarball::TRAILER).map_err(out)?;
    Ok(all.len())
}

/// Open a host file as a regular file. `stat` comes first so a fifo is never opened (that
/// would block), and the opened file must be the one that was checked.
fn open_host(host: &Path) -> Result<(File, std::fs::Metadata), LayerError> {
    let io = |source| LayerError::HostIo {
        path: host.to_path_buf(),
        source,
    };
    let before = std::fs::metadata(host).map_err(io)?;
    if !before.is_file() {
        return Err(LayerError::SpecialFile {
            path: host.to_path_buf(),
        });
    }
    let file = File::open(host).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if (meta.dev(), meta.ino()) != (before.dev(), before.ino()) || !meta.is_file() {
        return Err(LayerError::FileChanged {
            path: host.to_path_buf(),
        });
    }
    Ok((file, meta))
}

/// Copy exactly `size` bytes of `file` into `w`, then make sure the file has ended.
fn copy_exact<W: Write>(
    file: &mut File,
    host: &Path,
    size: u64,
    w: &mut W,
    buf: &mut [u8],
    out_path: &Path,
) -> Result<(), LayerError> {
    let changed = || LayerError::FileChanged {
        path: host.to_path_buf(),
    };
    let mut remaining = size;
    while remaining > 0 {
        let want = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = read_some(file, &mut buf[..want], host)?;
        if n == 0 {
            return Err(changed());
        }
        w.write_all(&buf[..n])
            .map_err(|source| LayerError::Output {
                path: out_path.to_path_buf(),
                source,
            })?;
        remaining -= n as u64;
    }
    if read_some(file, &mut buf[..1], host)? != 0 {
        return Err(changed());
    }
    Ok(())
}

fn read_some(file: &mut File, buf: &mut [u8], host: &Path) -> Result<usize, LayerError> {
    loop {
        match file.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(LayerError::HostIo {
                    path: host.to_path_buf(),
                    source,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::MODE_DATA;

    fn host_plan(host: &Path) -> LayerPlan {
        let mut plan = LayerPlan::new();
        plan.add(
            ImagePath::parse("/f").unwrap(),
            Entry::file(FileSource::Host(host.to_path_buf()), MODE_DATA),
        )
        .unwrap();
        plan
    }

    #[test]
    fn size_changes_while_reading_are_caught() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), b"0123456789").unwrap();
        let mut buf = vec![0u8; 4];
        let sink = Path::new("sink");
        // The file is shorter than the size announced in the header.
        let mut f = File::open(tmp.path()).unwrap();
        let err = copy_exact(&mut f, tmp.path(), 11, &mut Vec::new(), &mut buf, sink);
        assert!(matches!(err, Err(LayerError::FileChanged { path }) if path == tmp.path()));
        // The file goes on past the announced size.
        let mut f = File::open(tmp.path()).unwrap();
        let err = copy_exact(&mut f, tmp.path(), 9, &mut Vec::new(), &mut buf, sink);
        assert!(matches!(err, Err(LayerError::FileChanged { .. })));
        let mut f = File::open(tmp.path()).unwrap();
        let mut out = Vec::new();
        copy_exact(&mut f, tmp.path(), 10, &mut out, &mut buf, sink).unwrap();
        assert_eq!(out, b"0123456789");
    }

    #[test]
    fn files_changed_between_passes_are_caught() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), b"first").unwrap();
        let plan = host_plan(tmp.path());
        let mut prints = Vec::new();
        write_tar(
            &plan,
            0,
            &mut io::sink(),
            Path::new("s"),
            Check::Record(&mut prints),
        )
        .unwrap();
        write_tar(
            &plan,
            0,
            &mut io::sink(),
            Path::new("s"),
            Check::Verify(&prints),
        )
        .unwrap();
        std::fs::write(tmp.path(), b"second").unwrap();
        let err = write_tar(
            &plan,
            0,
            &mut io::sink(),
            Path::new("s"),
            Check::Verify(&prints),
        )
        .unwrap_err();
        assert!(matches!(err, LayerError::FileChanged { path } if path == tmp.path()));
    }
}
