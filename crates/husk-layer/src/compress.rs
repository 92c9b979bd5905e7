//! Layer compression: which algorithm, its media type and cache key, and the encoders.
//!
//! Both encoders are pinned to settings that make output a function of the input only:
//! gzip through libdeflate (a pinned version) with header mtime 0 and OS byte 255, in
//! fixed 1 MiB members compressed in parallel (see `pgzip`); zstd through libzstd in
//! multithreaded mode (`nbWorkers >= 1`), whose bytes do not depend on the worker count but
//! differ from single-threaded mode, so it is always on.
//!
//! Why libdeflate: measured on the bench payload in 1 MiB members (CPU time, one thread),
//! its level 5 is 1.7x faster than zlib-rs at level 6 (what husk used before) and 3.8x
//! faster than zlib at level 6, with a smaller result than both (25.8 % against 26.4 % and
//! 25.9 %); zlib-ng gives zlib-rs's bytes, slower. `docs/BENCHMARKS.md` has the table.

use std::io::{self, Write};

use husk_oci::media::{self, LayerCompression};

use crate::error::LayerError;

/// Bump when the bytes a compressor produces for the same tar may change (a new libdeflate
/// or libzstd version, other encoder settings or level mapping), so old cache entries are
/// not reused for builds that must be byte-identical with a cold one. The golden-digest
/// tests fail first when that happens. Generation 3: gzip moved from zlib-rs to libdeflate.
const ENCODER_GENERATION: u32 = 3;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip, level 0..=9 on zlib's scale (each level is encoded with the fastest
    /// libdeflate level at least as small as zlib's; see `pgzip`).
    Gzip { level: u32 },
    /// zstd, any level libzstd accepts (1..=22, or negative for fast modes; 0 means 3).
    Zstd { level: i32 },
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Gzip { level: 6 }
    }
}

impl Compression {
    /// zstd at its default level 3.
    pub fn zstd() -> Compression {
        Compression::Zstd { level: 3 }
    }

    /// The OCI layer media type (`husk_oci::media::OCI_LAYER_*`).
    pub fn media_type(&self) -> &'static str {
        match self {
            Compression::None => media::OCI_LAYER_TAR,
            Compression::Gzip { .. } => media::OCI_LAYER_GZIP,
            Compression::Zstd { .. } => media::OCI_LAYER_ZSTD,
        }
    }

    /// The matching husk-oci compression kind (for decoders).
    pub fn layer_compression(&self) -> LayerCompression {
        match self {
            Compression::None => LayerCompression::None,
            Compression::Gzip { .. } => LayerCompression::Gzip,
            Compression::Zstd { .. } => LayerCompression::Zstd,
        }
    }

    /// A file-name-safe key naming the algorithm, level and encoder generation:
    /// `tar`, `gzip6-g3`, `zstd3-g3`, `zstd-5-g3`.
    pub fn cache_key(&self) -> String {
        match self {
            Compression::None => "tar".to_owned(),
            Compression::Gzip { level } => format!("gzip{level}-g{ENCODER_GENERATION}"),
            Compression::Zstd { level } => format!("zstd{level}-g{ENCODER_GENERATION}"),
        }
    }

    /// # Errors
    /// [`LayerError::BadLevel`] for a level the encoder does not accept.
    pub fn validate(&self) -> Result<(), LayerError> {
        match *self {
            Compression::Gzip { level } if level > 9 => Err(LayerError::BadLevel {
                compression: "gzip",
                level: i64::from(level),
                allowed: "use 0 to 9",
            }),
            Compression::Zstd { level } if !zstd::compression_level_range().contains(&level) => {
                Err(LayerError::BadLevel {
                    compression: "zstd",
                    level: i64::from(level),
                    allowed: "use 1 to 22, or a negative level for fast modes",
                })
            }
            _ => Ok(()),
        }
    }
}

/// A compressing writer for one blob.
pub(crate) enum Encoder<W: Write> {
    Plain(W),
    Gzip(crate::pgzip::ParallelGzip<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    /// `workers` (compression threads) is raised to 1 if 0 (P5: zstd never in
    /// single-threaded mode). The bytes never depend on it.
    pub(crate) fn new(c: Compression, w: W, workers: u32) -> io::Result<Encoder<W>> {
        Ok(match c {
            Compression::None => Encoder::Plain(w),
            Compression::Gzip { level } => {
                Encoder::Gzip(crate::pgzip::ParallelGzip::new(w, level, workers))
            }
            Compression::Zstd { level } => {
                let mut e = zstd::stream::write::Encoder::new(w, level)?;
                e.multithread(workers.max(1))?;
                e.include_checksum(true)?;
                Encoder::Zstd(e)
            }
        })
    }

    /// Flush the compressed stream's end and return the inner writer.
    pub(crate) fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.write_all(buf),
            Encoder::Gzip(e) => e.write_all(buf),
            Encoder::Zstd(e) => e.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_validated() {
        assert!(Compression::Gzip { level: 9 }.validate().is_ok());
        assert!(Compression::Gzip { level: 10 }.validate().is_err());
        assert!(Compression::Zstd { level: 22 }.validate().is_ok());
        assert!(Compression::Zstd { level: 23 }.validate().is_err());
        assert!(Compression::Zstd { level: -5 }.validate().is_ok());
        assert!(Compression::Zstd { level: i32::MIN }.validate().is_err());
        let msg = Compression::Gzip { level: 12 }
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(msg, "invalid gzip level 12: use 0 to 9");
    }

    #[test]
    fn media_types_and_keys() {
        assert_eq!(Compression::default(), Compression::Gzip { level: 6 });
        assert_eq!(Compression::default().media_type(), media::OCI_LAYER_GZIP);
        assert_eq!(Compression::zstd().media_type(), media::OCI_LAYER_ZSTD);
        assert_eq!(Compression::None.media_type(), media::OCI_LAYER_TAR);
        assert_eq!(Compression::default().cache_key(), "gzip6-g3");
        assert_eq!(Compression::Zstd { level: -5 }.cache_key(), "zstd-5-g3");
        assert_eq!(Compression::None.cache_key(), "tar");
    }
}
