//! Parallel gzip: the tar stream is cut into fixed 1 MiB chunks, each compressed on its own
//! thread into a complete gzip member, and the members are written in order. A gzip file
//! may hold several members (RFC 1952 §2.2); every layer consumer (Go's compress/gzip,
//! pigz, flate2's MultiGzDecoder, zlib's gunzip) reads them as one stream.
//!
//! The bytes depend only on the input, the level and the fixed chunk size, never on the
//! number of threads, so builds stay reproducible on any machine. The cost is a few
//! hundred bytes per MiB (no shared dictionary across chunk boundaries).

use std::io::{self, Write};

/// The fixed chunk size. Changing it changes every gzip layer digest (bump the encoder
/// generation in compress.rs).
pub(crate) const CHUNK: usize = 1 << 20;

pub(crate) struct ParallelGzip<W: Write> {
    inner: W,
    level: u32,
    workers: usize,
    /// Full chunks waiting to be compressed, at most `workers` of them.
    pending: Vec<Vec<u8>>,
    /// The chunk being filled.
    current: Vec<u8>,
    wrote_member: bool,
}

fn member(data: &[u8], level: u32) -> io::Result<Vec<u8>> {
    let mut e = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(
            Vec::with_capacity(data.len() / 2 + 64),
            flate2::Compression::new(level),
        );
    e.write_all(data)?;
    e.finish()
}

impl<W: Write> ParallelGzip<W> {
    pub(crate) fn new(inner: W, level: u32, workers: u32) -> Self {
        ParallelGzip {
            inner,
            level,
            workers: workers.max(1) as usize,
            pending: Vec::new(),
            current: Vec::with_capacity(CHUNK),
            wrote_member: false,
        }
    }

    /// Compress the pending chunks (in parallel) and write them in order.
    fn drain(&mut self) -> io::Result<()> {
        let chunks = std::mem::take(&mut self.pending);
        if chunks.is_empty() {
            return Ok(());
        }
        let level = self.level;
        let members: Vec<io::Result<Vec<u8>>> = if chunks.len() == 1 {
            vec![member(&chunks[0], level)]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = chunks
                    .iter()
                    .map(|c| s.spawn(move || member(c, level)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(io::Error::other("gzip worker panicked")))
                    })
                    .collect()
            })
        };
        for m in members {
            self.inner.write_all(&m?)?;
            self.wrote_member = true;
        }
        Ok(())
    }

    fn push_chunk(&mut self) -> io::Result<()> {
        let full = std::mem::replace(&mut self.current, Vec::with_capacity(CHUNK));
        self.pending.push(full);
        if self.pending.len() >= self.workers {
            self.drain()?;
        }
        Ok(())
    }

    /// Compress what is left and return the inner writer. An empty input still gives one
    /// (empty) gzip member, so the blob is a valid gzip file.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        if !self.current.is_empty() || (!self.wrote_member && self.pending.is_empty()) {
            let last = std::mem::take(&mut self.current);
            self.pending.push(last);
        }
        self.drain()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ParallelGzip<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(CHUNK - self.current.len());
        self.current.extend_from_slice(&buf[..n]);
        if self.current.len() == CHUNK {
            self.push_chunk()?;
        }
        Ok(n)
    }

    /// Pending chunks are only written at chunk boundaries or at finish; flush has nothing
    /// it can force without changing the bytes.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn compress(data: &[u8], workers: u32) -> Vec<u8> {
        let mut w = ParallelGzip::new(Vec::new(), 6, workers);
        // Odd write sizes, so chunk boundaries fall inside writes.
        for piece in data.chunks(77_777) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    fn data(len: usize) -> Vec<u8> {
        let mut x: u32 = 7;
        (0..len)
            .map(|i| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                if i % 3 == 0 {
                    (x >> 24) as u8
                } else {
                    b'a' + (i % 13) as u8
                }
            })
            .collect()
    }

    #[test]
    fn bytes_do_not_depend_on_thread_count() {
        let d = data(3 * CHUNK + 12_345);
        let one = compress(&d, 1);
        assert_eq!(one, compress(&d, 2));
        assert_eq!(one, compress(&d, 7));
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&one[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn small_input_is_one_ordinary_member() {
        let d = data(1000);
        let single = member(&d, 6).unwrap();
        assert_eq!(compress(&d, 2), single);
    }

    #[test]
    fn empty_and_exact_chunk_inputs_are_valid_gzip() {
        for len in [0, CHUNK, 2 * CHUNK] {
            let d = data(len);
            let z = compress(&d, 2);
            let mut back = Vec::new();
            flate2::read::MultiGzDecoder::new(&z[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back.len(), len);
        }
    }
}
