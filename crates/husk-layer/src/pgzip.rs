//! Parallel gzip: the tar stream is cut into fixed 1 MiB chunks, each compressed into a
//! complete gzip member by libdeflate, and the members are written in order. A gzip file
//! may hold several members (RFC 1952 §2.2); every layer consumer (Go's compress/gzip,
//! pigz, flate2's MultiGzDecoder, zlib's gunzip) reads them as one stream.
//!
//! The bytes depend only on the input, the level and the fixed chunk size, never on the
//! number of threads, so builds stay reproducible on any machine. The cost is a few
//! hundred bytes per MiB (no shared dictionary across chunk boundaries).
//!
//! The stages overlap: the caller's thread reads, hashes and cuts the tar into chunks and
//! hands each to a compression worker (chunk `i` to worker `i % n`, so each worker's
//! results come back in order); it writes (and its writer hashes) each finished member as
//! soon as it is the next one due, and waits only when `2 n` chunks are in flight. Chunk
//! buffers go back and forth between the stages instead of being allocated per chunk.
//! Workers are started when the second chunk is full, so a layer under 1 MiB is
//! compressed on the caller's thread with no thread at all.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use libdeflater::{CompressionLvl, Compressor};

/// The fixed chunk size. Changing it changes every gzip layer digest (bump the encoder
/// generation in compress.rs).
pub(crate) const CHUNK: usize = 1 << 20;

/// The libdeflate level for each gzip level the user can ask for (0..=9, zlib's scale):
/// the fastest libdeflate level whose ratio was measured equal or better than zlib's at
/// the same level, in 1 MiB members, on the bench payload (see `docs/BENCHMARKS.md`).
/// Changing an entry changes digests (bump the encoder generation).
const LIBDEFLATE_LEVEL: [i32; 10] = [0, 1, 2, 3, 4, 5, 5, 6, 7, 9];

/// One member: a chunk compressed, and the chunk's buffer handed back for reuse.
type Done = (io::Result<Vec<u8>>, Vec<u8>);

/// Compress `data` into one gzip member (mtime 0, no name; libdeflate writes OS byte 255).
fn member(c: &mut Compressor, data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; c.gzip_compress_bound(data.len())];
    let n = c
        .gzip_compress(data, &mut out)
        .map_err(|e| io::Error::other(format!("libdeflate could not compress a chunk: {e:?}")))?;
    out.truncate(n);
    Ok(out)
}

fn compressor(level: u32) -> io::Result<Compressor> {
    let lvl = usize::try_from(level)
        .ok()
        .and_then(|l| LIBDEFLATE_LEVEL.get(l))
        .copied()
        .ok_or_else(|| io::Error::other(format!("gzip level {level} is not 0 to 9")))?;
    let lvl = CompressionLvl::new(lvl)
        .map_err(|e| io::Error::other(format!("libdeflate refused level {lvl}: {e:?}")))?;
    Ok(Compressor::new(lvl))
}

/// One compression thread and its two channels.
struct Worker {
    jobs: Option<Sender<Vec<u8>>>,
    done: Receiver<Done>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    fn spawn(level: u32) -> io::Result<Worker> {
        let (jobs, job_rx) = mpsc::channel::<Vec<u8>>();
        let (done_tx, done) = mpsc::channel::<Done>();
        let handle = std::thread::Builder::new()
            .name("husk-gzip".into())
            .spawn(move || {
                let mut c = compressor(level);
                for chunk in job_rx {
                    let result = match &mut c {
                        Ok(c) => member(c, &chunk),
                        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                    };
                    if done_tx.send((result, chunk)).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Worker {
            jobs: Some(jobs),
            done,
            handle: Some(handle),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the job channel ends the thread after its current chunk.
        self.jobs = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub(crate) struct ParallelGzip<W: Write> {
    inner: W,
    level: u32,
    /// How many workers to start (at least 1).
    max_workers: usize,
    workers: Vec<Worker>,
    /// Chunks sent and not yet written, as the worker index that has each, oldest first.
    in_flight: VecDeque<usize>,
    /// Chunks sent so far (chunk `i` goes to worker `i % workers.len()`).
    sent: usize,
    /// The chunk being filled.
    current: Vec<u8>,
    /// Emptied chunk buffers, ready for reuse.
    spare: Vec<Vec<u8>>,
    /// The first full chunk, kept until a second one shows the layer needs workers.
    held: Option<Vec<u8>>,
}

impl<W: Write> ParallelGzip<W> {
    pub(crate) fn new(inner: W, level: u32, workers: u32) -> Self {
        ParallelGzip {
            inner,
            level,
            max_workers: usize::try_from(workers.max(1)).unwrap_or(1),
            workers: Vec::new(),
            in_flight: VecDeque::new(),
            sent: 0,
            current: Vec::with_capacity(CHUNK),
            spare: Vec::new(),
            held: None,
        }
    }

    /// Write the oldest in-flight member (waiting for it) and keep its buffer.
    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(w) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let (result, mut buffer) = self.workers[w]
            .done
            .recv()
            .map_err(|_| io::Error::other("a gzip compression thread stopped"))?;
        self.inner.write_all(&result?)?;
        buffer.clear();
        self.spare.push(buffer);
        Ok(())
    }

    /// Hand `chunk` to its worker, starting the workers on first use, and write whatever
    /// members are due while keeping at most two chunks per worker in flight.
    fn send(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        if self.workers.is_empty() {
            for _ in 0..self.max_workers {
                self.workers.push(Worker::spawn(self.level)?);
            }
        }
        let w = self.sent % self.workers.len();
        let tx = self.workers[w]
            .jobs
            .as_ref()
            .ok_or_else(|| io::Error::other("gzip worker already closed"))?;
        tx.send(chunk)
            .map_err(|_| io::Error::other("a gzip compression thread stopped"))?;
        self.sent += 1;
        self.in_flight.push_back(w);
        while self.in_flight.len() >= 2 * self.workers.len() {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn push_chunk(&mut self) -> io::Result<()> {
        let next = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK));
        let full = std::mem::replace(&mut self.current, next);
        match self.held.take() {
            // The first chunk: wait for a second before starting any thread.
            None if self.sent == 0 => self.held = Some(full),
            first => {
                if let Some(first) = first {
                    self.send(first)?;
                }
                self.send(full)?;
            }
        }
        Ok(())
    }

    /// Compress what is left and return the inner writer. An empty input still gives one
    /// (empty) gzip member, so the blob is a valid gzip file.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        let last = std::mem::take(&mut self.current);
        if self.sent == 0 {
            // At most two chunks in all: compress them here, no threads.
            let mut c = compressor(self.level)?;
            let mut members = Vec::new();
            if let Some(first) = self.held.take() {
                members.push(member(&mut c, &first)?);
            }
            if !last.is_empty() || members.is_empty() {
                members.push(member(&mut c, &last)?);
            }
            for m in members {
                self.inner.write_all(&m)?;
            }
        } else {
            if !last.is_empty() {
                self.send(last)?;
            }
            while !self.in_flight.is_empty() {
                self.write_oldest()?;
            }
        }
        // Dropping the workers ends and joins their threads.
        self.workers.clear();
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

    fn compress(data: &[u8], level: u32, workers: u32) -> Vec<u8> {
        let mut w = ParallelGzip::new(Vec::new(), level, workers);
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

    fn gunzip(z: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(z)
            .read_to_end(&mut back)
            .unwrap();
        back
    }

    #[test]
    fn bytes_do_not_depend_on_thread_count() {
        let d = data(5 * CHUNK + 12_345);
        let one = compress(&d, 6, 1);
        for workers in [0, 2, 3, 8] {
            assert_eq!(one, compress(&d, 6, workers), "{workers} workers");
        }
        assert_eq!(gunzip(&one), d);
    }

    #[test]
    fn every_level_round_trips_and_is_deterministic() {
        let d = data(2 * CHUNK + 3);
        for level in 0..=9 {
            let z = compress(&d, level, 2);
            assert_eq!(z, compress(&d, level, 1), "level {level}");
            assert_eq!(gunzip(&z), d, "level {level}");
        }
    }

    #[test]
    fn small_input_is_one_ordinary_member() {
        let d = data(1000);
        let single = member(&mut compressor(6).unwrap(), &d).unwrap();
        assert_eq!(compress(&d, 6, 2), single);
        // A pinned header: gzip magic, deflate, no flags, mtime 0, OS "unknown".
        assert_eq!(single[..8], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
        assert_eq!(single[9], 255);
    }

    #[test]
    fn empty_and_exact_chunk_inputs_are_valid_gzip() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 7 * CHUNK] {
            let d = data(len);
            let z = compress(&d, 6, 2);
            assert_eq!(gunzip(&z).len(), len);
            assert_eq!(z, compress(&d, 6, 8), "{len} bytes");
        }
    }

    #[test]
    fn members_are_cut_at_every_mib() {
        let d = data(3 * CHUNK);
        let z = compress(&d, 6, 2);
        let mut members = 0;
        let mut rest = &z[..];
        while !rest.is_empty() {
            let mut dec = flate2::bufread::GzDecoder::new(rest);
            let mut out = Vec::new();
            dec.read_to_end(&mut out).unwrap();
            assert_eq!(out.len(), CHUNK);
            rest = dec.into_inner();
            members += 1;
        }
        assert_eq!(members, 3);
    }

    #[test]
    fn out_of_range_levels_are_errors_not_panics() {
        assert!(compressor(10).is_err());
        assert!(compressor(u32::MAX).is_err());
        for len in [10, 3 * CHUNK] {
            let mut w = ParallelGzip::new(Vec::new(), 42, 2);
            let err = match w.write_all(&data(len)) {
                Err(e) => e,
                Ok(()) => w.finish().map(|_| ()).unwrap_err(),
            };
            assert!(err.to_string().contains("gzip level 42"), "{err}");
        }
    }

    /// A writer that fails after `ok` bytes.
    struct Failing {
        ok: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = buf.len().min(self.ok);
            self.ok -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_errors_come_back_and_dropping_mid_stream_ends_the_threads() {
        let d = data(9 * CHUNK);
        let mut w = ParallelGzip::new(Failing { ok: 1000 }, 6, 2);
        let err = d.chunks(CHUNK / 3).try_for_each(|c| w.write_all(c));
        let err = match err {
            Err(e) => e,
            Ok(()) => w.finish().map(|_| ()).unwrap_err(),
        };
        assert_eq!(err.to_string(), "disk full");
        // Abandoned with chunks in flight: the drop joins the workers without hanging.
        let mut w = ParallelGzip::new(Vec::new(), 6, 4);
        w.write_all(&d[..5 * CHUNK + 10]).unwrap();
        drop(w);
    }
}
