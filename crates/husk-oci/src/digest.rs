//! Content digests (`sha256:<64 hex>`), per the OCI image spec "Digests" section.
//!
//! Only sha256 is produced; sha512 is parsed and verified so foreign images still validate.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256, Sha512};

use crate::OciError;

/// The hash algorithm of a [`Digest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A validated content digest such as `sha256:e3b0…`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// The sha256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Digest {
        Digest {
            algorithm: Algorithm::Sha256,
            hex: hex::encode(Sha256::digest(bytes)),
        }
    }

    /// The algorithm part (`sha256`).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The lowercase hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex characters, for human output.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }

    /// `blobs/<alg>/<hex>` as used by OCI layouts.
    pub fn blob_path(&self) -> String {
        format!("blobs/{}/{}", self.algorithm.name(), self.hex)
    }

    /// A hasher for this digest's algorithm.
    pub fn hasher(&self) -> Hasher {
        Hasher::new(self.algorithm)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = OciError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || OciError::BadDigest {
            digest: s.escape_debug().to_string(),
        };
        let (alg, hex) = s.split_once(':').ok_or_else(bad)?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return Err(bad()),
        };
        if hex.len() != algorithm.hex_len()
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad());
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_owned(),
        })
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental hasher that yields a [`Digest`].
#[derive(Clone)]
pub enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }
    pub fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest {
                algorithm: Algorithm::Sha256,
                hex: hex::encode(h.finalize()),
            },
            Hasher::Sha512(h) => Digest {
                algorithm: Algorithm::Sha512,
                hex: hex::encode(h.finalize()),
            },
        }
    }
}

/// A writer that hashes and counts everything written through it to `inner`.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Hasher::new(Algorithm::Sha256),
            count: 0,
        }
    }
    /// Returns the inner writer, the sha256 digest and byte count of what passed through.
    pub fn finish(self) -> (W, Digest, u64) {
        (self.inner, self.hasher.finish(), self.count)
    }
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        // A writer claiming more than it was given is clamped, never sliced past the end.
        self.hasher.update(buf.get(..n).unwrap_or(buf));
        self.count = self
            .count
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes and counts everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R, algorithm: Algorithm) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::new(algorithm),
            count: 0,
        }
    }
    /// The digest and byte count of what was read so far.
    pub fn finish(self) -> (Digest, u64) {
        (self.hasher.finish(), self.count)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // A reader claiming more than the buffer is clamped, never sliced past the end.
        self.hasher.update(buf.get(..n).unwrap_or(buf));
        self.count = self
            .count
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(n)
    }
}

/// A reader over a blob that checks, at end of stream, that exactly `size` bytes with
/// `digest` were read. A mismatch is an `io::Error` wrapping [`OciError::BlobMismatch`],
/// so callers that stream (extract, copy) fail before trusting the bytes' end.
pub struct VerifyingReader<R> {
    inner: HashingReader<std::io::Take<R>>,
    expected: Digest,
    size: u64,
    done: bool,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest, size: u64) -> Self {
        // Read one byte past the declared size so a longer blob is caught.
        let algorithm = expected.algorithm();
        VerifyingReader {
            inner: HashingReader::new(inner.take(size.saturating_add(1)), algorithm),
            expected,
            size,
            done: false,
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if self.inner.count > self.size {
            return Err(mismatch(&self.expected, self.size, None, self.inner.count));
        }
        if n == 0 && !buf.is_empty() {
            self.done = true;
            let actual = self.inner.hasher.clone().finish();
            if self.inner.count != self.size || actual != self.expected {
                return Err(mismatch(
                    &self.expected,
                    self.size,
                    Some(actual),
                    self.inner.count,
                ));
            }
        }
        Ok(n)
    }
}

/// A reader over a layer's uncompressed tar that checks, at end of stream, that the tar
/// has the diff_id the image config gives it. A mismatch is an `io::Error` wrapping
/// [`OciError::DiffIdMismatch`].
pub struct DiffIdReader<R> {
    inner: HashingReader<R>,
    layer: Digest,
    expected: Digest,
    done: bool,
}

impl<R: Read> DiffIdReader<R> {
    /// `inner` is the uncompressed stream of the layer blob `layer`.
    pub fn new(inner: R, layer: Digest, expected: Digest) -> Self {
        let algorithm = expected.algorithm();
        DiffIdReader {
            inner: HashingReader::new(inner, algorithm),
            layer,
            expected,
            done: false,
        }
    }
}

impl<R: Read> Read for DiffIdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.done = true;
            let actual = self.inner.hasher.clone().finish();
            if actual != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    OciError::DiffIdMismatch {
                        layer: self.layer.clone(),
                        expected: self.expected.clone(),
                        actual: Box::new(actual),
                    },
                ));
            }
        }
        Ok(n)
    }
}

fn mismatch(expected: &Digest, size: u64, actual: Option<Digest>, read: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        OciError::BlobMismatch {
            digest: expected.clone(),
            expected_size: size,
            actual_size: read,
            actual_digest: actual,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sha256() {
        assert_eq!(
            Digest::sha256(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_rejects_bad_digests() {
        for bad in [
            "",
            "sha256",
            "sha256:",
            "md5:abc",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            "sha256:../../../../etc/passwd0000000000000000000000000000000000000",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn verifying_reader_accepts_exact_and_rejects_changed() {
        let data = b"hello world";
        let d = Digest::sha256(data);
        let mut out = Vec::new();
        VerifyingReader::new(&data[..], d.clone(), 11)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let mut out = Vec::new();
        assert!(
            VerifyingReader::new(&b"hello World"[..], d.clone(), 11)
                .read_to_end(&mut out)
                .is_err()
        );
        assert!(
            VerifyingReader::new(&b"hello world!"[..], d.clone(), 11)
                .read_to_end(&mut out)
                .is_err()
        );
        assert!(
            VerifyingReader::new(&b"hello"[..], d, 11)
                .read_to_end(&mut out)
                .is_err()
        );
    }

    proptest::proptest! {
        #[test]
        fn display_parse_roundtrip(bytes in proptest::collection::vec(0u8.., 0..64)) {
            let d = Digest::sha256(&bytes);
            proptest::prop_assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        }
    }

    /// A reader that claims to have read more than the buffer it was given.
    struct Liar;
    impl Read for Liar {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            Ok(buf.len() + 10)
        }
    }

    #[test]
    fn a_reader_lying_about_its_count_does_not_panic() {
        let mut r = HashingReader::new(Liar, Algorithm::Sha256);
        let mut buf = [0u8; 4];
        assert_eq!(r.read(&mut buf).unwrap(), 14);
        let (_, count) = r.finish();
        assert_eq!(count, 14);
    }
}
