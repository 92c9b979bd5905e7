//! End-to-end tests of `write_layer`: determinism, read-back with the `tar` crate as the
//! oracle, the cache, and host-file errors.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use husk_layer::{
    Compression, Entry, EntryKind, FileSource, ImagePath, LayerError, LayerPlan, MODE_DATA,
    MODE_EXEC, WriteOptions, WrittenLayer, write_layer,
};
use husk_oci::Digest;

fn p(s: &str) -> ImagePath {
    ImagePath::parse(s).unwrap()
}

fn bytes(b: &[u8], mode: u32) -> Entry {
    Entry::file(FileSource::Bytes(Arc::from(b)), mode)
}

fn opts(compression: Compression) -> WriteOptions {
    WriteOptions {
        mtime: 0,
        compression,
        cache_dir: None,
        workers: 2,
    }
}

fn write(plan: &LayerPlan, o: &WriteOptions) -> (WrittenLayer, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let w = write_layer(plan, o, dir.path()).unwrap();
    let blob = std::fs::read(&w.blob).unwrap();
    (w, blob)
}

fn decompress(c: Compression, blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    c.layer_compression()
        .decoder(blob)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// One entry as the `tar` crate reads it back.
#[derive(Debug, PartialEq)]
struct Seen {
    name: String,
    kind: tar::EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    link: Option<String>,
    data: Vec<u8>,
}

fn read_back(tar_bytes: &[u8]) -> Vec<Seen> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let h = entry.header().clone();
        assert_eq!(h.username_bytes(), Some(&b""[..]));
        assert_eq!(h.groupname_bytes(), Some(&b""[..]));
        let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8(l.into_owned()).unwrap());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        seen.push(Seen {
            name,
            kind: h.entry_type(),
            mode: h.mode().unwrap(),
            uid: h.uid().unwrap(),
            gid: h.gid().unwrap(),
            mtime: h.mtime().unwrap(),
            link,
            data,
        });
    }
    seen
}

fn sample_plan(host_file: &Path) -> LayerPlan {
    let mut plan = LayerPlan::new();
    let long_dir = format!("/opt/{}", "very-long-directory-name/".repeat(5));
    let long_file = p(&format!("{long_dir}file-with-a-long-name.txt"));
    plan.add(long_file, bytes(b"deep", MODE_DATA)).unwrap();
    plan.add(
        p("/usr/bin/tool"),
        Entry::file(FileSource::Host(host_file.to_path_buf()), MODE_EXEC),
    )
    .unwrap();
    plan.add(p("/bin"), Entry::symlink("usr/bin")).unwrap();
    plan.add(
        p("/etc/passwd"),
        bytes(b"root:x:0:0::/:/sbin/nologin\n", 0o644),
    )
    .unwrap();
    let mut tmp = Entry::dir();
    tmp.mode = 0o1777;
    plan.add(p("/tmp"), tmp).unwrap();
    plan.add(p("/home/app"), Entry::dir().owned_by(1000, 1000))
        .unwrap();
    plan.add(p("/long-link"), Entry::symlink("x/".repeat(80)))
        .unwrap();
    plan.add(p("/empty"), bytes(b"", MODE_DATA)).unwrap();
    plan
}

#[test]
fn round_trip_with_the_tar_crate() {
    let host = tempfile::NamedTempFile::new().unwrap();
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(host.path(), &content).unwrap();
    let plan = sample_plan(host.path());

    for c in [
        Compression::None,
        Compression::default(),
        Compression::zstd(),
    ] {
        let o = WriteOptions {
            mtime: 1_700_000_000,
            ..opts(c)
        };
        let (w, blob) = write(&plan, &o);
        assert_eq!(w.descriptor.media_type, c.media_type());
        assert_eq!(w.descriptor.digest, Digest::sha256(&blob));
        assert_eq!(w.descriptor.size, blob.len() as u64);
        assert_eq!(w.blob.file_name().unwrap(), w.descriptor.digest.hex());
        let tar_bytes = decompress(c, &blob);
        assert_eq!(w.diff_id, Digest::sha256(&tar_bytes));
        assert_eq!(w.uncompressed_size, tar_bytes.len() as u64);
        assert!(!w.reused);

        let seen = read_back(&tar_bytes);
        assert_eq!(seen.len(), w.entries);
        let names: Vec<&str> = seen.iter().map(|s| s.name.as_str()).collect();
        let long_dir = format!("opt/{}", "very-long-directory-name/".repeat(5));
        let mut want = vec![
            "bin".to_string(),
            "empty".into(),
            "etc/".into(),
            "etc/passwd".into(),
            "home/".into(),
            "home/app/".into(),
            "long-link".into(),
            "opt/".into(),
        ];
        for depth in 1..=5 {
            want.push(format!("opt/{}", "very-long-directory-name/".repeat(depth)));
        }
        want.extend([
            format!("{long_dir}file-with-a-long-name.txt"),
            "tmp/".into(),
            "usr/".into(),
            "usr/bin/".into(),
            "usr/bin/tool".into(),
        ]);
        assert_eq!(names, want, "{c:?}");

        // Parents first.
        for (i, s) in seen.iter().enumerate() {
            let trimmed = s.name.trim_end_matches('/');
            if let Some((parent, _)) = trimmed.rsplit_once('/') {
                let pos = names
                    .iter()
                    .position(|n| *n == format!("{parent}/"))
                    .unwrap();
                assert!(pos < i, "{} before its parent", s.name);
            }
        }

        let by_name = |n: &str| seen.iter().find(|s| s.name == n).unwrap();
        assert!(seen.iter().all(|s| s.mtime == 1_700_000_000));
        let tool = by_name("usr/bin/tool");
        assert_eq!((tool.mode, tool.kind), (MODE_EXEC, tar::EntryType::Regular));
        assert_eq!(tool.data, content);
        assert_eq!(by_name("etc/passwd").mode, 0o644);
        assert_eq!(by_name("etc/").mode, 0o755);
        assert_eq!(by_name("etc/").kind, tar::EntryType::Directory);
        assert_eq!(by_name("tmp/").mode, 0o1777);
        let home = by_name("home/app/");
        assert_eq!((home.uid, home.gid), (1000, 1000));
        assert_eq!((by_name("home/").uid, by_name("home/").gid), (0, 0));
        let bin = by_name("bin");
        assert_eq!(bin.kind, tar::EntryType::Symlink);
        assert_eq!(bin.link.as_deref(), Some("usr/bin"));
        assert_eq!(
            by_name("long-link").link.as_deref(),
            Some("x/".repeat(80).as_str())
        );
        assert!(by_name("empty").data.is_empty());
        assert_eq!(
            by_name(&format!("{long_dir}file-with-a-long-name.txt")).data,
            b"deep"
        );
    }
}

#[test]
fn root_entry_and_empty_plan() {
    let mut plan = LayerPlan::new();
    let (w, blob) = write(&plan, &opts(Compression::None));
    assert_eq!(w.entries, 0);
    assert_eq!(blob, vec![0u8; 1024]);

    plan.add(ImagePath::root(), Entry::dir()).unwrap();
    plan.add(p("/a"), bytes(b"a", MODE_DATA)).unwrap();
    let (_, blob) = write(&plan, &opts(Compression::None));
    let names: Vec<String> = read_back(&blob).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["./", "a"]);
}

#[test]
fn same_plan_same_bytes_for_every_compression_and_worker_count() {
    let host = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(host.path(), b"#!/bin/true\n".repeat(5000)).unwrap();
    let plan = sample_plan(host.path());
    for c in [
        Compression::None,
        Compression::default(),
        Compression::Gzip { level: 1 },
        Compression::zstd(),
        Compression::Zstd { level: 19 },
    ] {
        let (a, blob_a) = write(&plan, &opts(c));
        let (b, blob_b) = write(
            &plan,
            &WriteOptions {
                workers: 1,
                ..opts(c)
            },
        );
        let (_, blob_c) = write(
            &plan,
            &WriteOptions {
                workers: 4,
                ..opts(c)
            },
        );
        assert_eq!(a.descriptor, b.descriptor, "{c:?}");
        assert_eq!(blob_a, blob_b, "{c:?}");
        assert_eq!(blob_a, blob_c, "{c:?}");
    }
}

#[test]
fn mtime_changes_the_diff_id() {
    let mut plan = LayerPlan::new();
    plan.add(p("/f"), bytes(b"x", MODE_DATA)).unwrap();
    let (a, _) = write(&plan, &opts(Compression::default()));
    let (b, _) = write(
        &plan,
        &WriteOptions {
            mtime: 1,
            ..opts(Compression::default())
        },
    );
    assert_ne!(a.diff_id, b.diff_id);
    assert_ne!(a.descriptor.digest, b.descriptor.digest);
}

fn golden_plan() -> LayerPlan {
    let mut plan = LayerPlan::new();
    plan.add(p("/etc/os-release"), bytes(b"ID=husk\n", 0o444))
        .unwrap();
    plan.add(
        p("/app/server"),
        bytes(&[0x7f, b'E', b'L', b'F'].repeat(300), MODE_EXEC),
    )
    .unwrap();
    plan.add(p("/lib64"), Entry::symlink("usr/lib64")).unwrap();
    plan.add(p("/data"), Entry::dir().owned_by(65532, 65532))
        .unwrap();
    plan
}

/// Guards the gzip encoder and settings: a change of libdeflate version, level mapping or
/// header changes these bytes. If it changes on purpose, bump `ENCODER_GENERATION`.
#[test]
fn golden_digest_gzip() {
    let (w, _) = write(&golden_plan(), &opts(Compression::default()));
    assert_eq!(
        w.diff_id.to_string(),
        "sha256:cd623a1c60167a1c41fc2587369a7b034732c1865a99c53b6462fa07ba36a218"
    );
    assert_eq!(
        w.descriptor.digest.to_string(),
        "sha256:370d3ce1b8cb607f5023b963e1b016e4f81f9e840dd00de6dd82a525872951d5"
    );
}

/// A layer of several 1 MiB gzip members (3.5 MiB of mixed content): the same bytes for
/// 1, 2 and 8 compression threads and on every run, pinned by digest.
#[test]
fn golden_multi_member_gzip_is_independent_of_threads_and_runs() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let content: Vec<u8> = (0..(7 << 19))
        .map(|i: u32| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if i.is_multiple_of(4) {
                (state >> 56) as u8
            } else {
                b"ELF GLIBC_2.34 memcpy "[(i % 22) as usize]
            }
        })
        .collect();
    let mut plan = LayerPlan::new();
    plan.add(p("/app/blob"), bytes(&content, MODE_EXEC))
        .unwrap();
    plan.add(p("/etc/hostname"), bytes(b"husk\n", 0o444))
        .unwrap();
    let mut seen = Vec::new();
    for _run in 0..2 {
        for workers in [1, 2, 8] {
            let (w, blob) = write(
                &plan,
                &WriteOptions {
                    workers,
                    ..opts(Compression::default())
                },
            );
            assert_eq!(
                decompress(Compression::default(), &blob).len() as u64,
                w.uncompressed_size
            );
            seen.push(w.descriptor.digest.to_string());
        }
    }
    assert!(seen.iter().all(|d| *d == seen[0]), "{seen:?}");
    assert_eq!(
        seen[0],
        "sha256:e3b3daf4a0c3eaba484643bde34f6799820f100725855a1ffb8d6f6e81b3bff6"
    );
}

/// Guards libzstd and its multithreaded mode (STACK P5). If it changes on purpose, bump
/// `ENCODER_GENERATION`.
#[test]
fn golden_digest_zstd() {
    let (w, _) = write(&golden_plan(), &opts(Compression::zstd()));
    assert_eq!(
        w.diff_id.to_string(),
        "sha256:cd623a1c60167a1c41fc2587369a7b034732c1865a99c53b6462fa07ba36a218"
    );
    assert_eq!(
        w.descriptor.digest.to_string(),
        "sha256:d1a017f4d82ed0c642e4d650710382d84a4c85b611f2380196f23287f80ad994"
    );
}

mod order_independence {
    use super::*;
    use proptest::prelude::*;

    fn entry_strategy() -> impl Strategy<Value = (String, u8, Vec<u8>)> {
        (
            proptest::string::string_regex("(/[abc]{1,2}){1,4}").unwrap(),
            0u8..4,
            proptest::collection::vec(any::<u8>(), 0..64),
        )
    }

    fn build(items: &[(String, u8, Vec<u8>)]) -> LayerPlan {
        let mut plan = LayerPlan::new();
        for (path, kind, data) in items {
            let entry = match kind {
                0 => Entry::dir(),
                1 => bytes(data, MODE_DATA),
                2 => Entry::symlink(format!("t{}", data.len())),
                _ => Entry::dir().owned_by(7, 7),
            };
            // Conflicting additions are rejected whatever the order; keep only what fits.
            let _ = plan.add(p(path), entry);
        }
        plan
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn insertion_order_does_not_matter(
            items in proptest::collection::vec(entry_strategy(), 0..12),
            seed in any::<u64>(),
        ) {
            // A plan made only of the entries accepted in the first order, re-inserted in a
            // shuffled order, must be accepted completely and give identical bytes.
            let first = build(&items);
            let mut accepted: Vec<(ImagePath, Entry)> =
                first.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let mut state = seed | 1;
            for i in (1..accepted.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                accepted.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let mut second = LayerPlan::new();
            for (k, v) in accepted {
                second.add(k, v).unwrap();
            }
            for c in [Compression::None, Compression::Gzip { level: 1 }] {
                let (a, blob_a) = write(&first, &opts(c));
                let (b, blob_b) = write(&second, &opts(c));
                prop_assert_eq!(&a.diff_id, &b.diff_id);
                prop_assert_eq!(&a.descriptor, &b.descriptor);
                prop_assert_eq!(blob_a, blob_b);
            }
        }
    }
}

#[test]
fn cache_reuses_and_rejects_tampered_blobs() {
    let cache = tempfile::tempdir().unwrap();
    let plan = golden_plan();
    for c in [Compression::default(), Compression::zstd()] {
        let o = WriteOptions {
            cache_dir: Some(cache.path().to_path_buf()),
            ..opts(c)
        };
        let (cold, cold_blob) = write(&plan, &o);
        assert!(!cold.reused);
        let (warm, warm_blob) = write(&plan, &o);
        assert!(warm.reused, "{c:?}");
        assert_eq!(
            warm,
            WrittenLayer {
                blob: warm.blob.clone(),
                reused: true,
                ..cold.clone()
            }
        );
        assert_eq!(cold_blob, warm_blob);

        // Tamper with the cached blob in place (same size): detected, rebuilt, rewritten.
        let cached = cache
            .path()
            .join(format!("{}.{}", cold.diff_id.hex(), c.cache_key()));
        let mut bytes_on_disk = std::fs::read(&cached).unwrap();
        let last = bytes_on_disk.len() - 1;
        bytes_on_disk[last] ^= 0xff;
        std::fs::write(&cached, &bytes_on_disk).unwrap();
        let (rebuilt, rebuilt_blob) = write(&plan, &o);
        assert!(!rebuilt.reused);
        assert_eq!(rebuilt.descriptor, cold.descriptor);
        assert_eq!(rebuilt_blob, cold_blob);
        assert_eq!(std::fs::read(&cached).unwrap(), cold_blob);
        assert!(write(&plan, &o).0.reused);

        // Garbage metadata is a miss too.
        let meta = cached.with_file_name(format!(
            "{}.meta",
            cached.file_name().unwrap().to_str().unwrap()
        ));
        std::fs::write(&meta, "garbage").unwrap();
        assert!(!write(&plan, &o).0.reused);
        assert!(write(&plan, &o).0.reused);
    }
    // Nothing but entries and their metadata is left behind.
    for f in std::fs::read_dir(cache.path()).unwrap() {
        let name = f.unwrap().file_name().into_string().unwrap();
        assert!(!name.starts_with(".husk-tmp"), "{name}");
    }
}

#[test]
fn unusable_cache_dir_is_not_an_error() {
    let not_a_dir = tempfile::NamedTempFile::new().unwrap();
    let o = WriteOptions {
        cache_dir: Some(not_a_dir.path().join("cache")),
        ..opts(Compression::default())
    };
    let (w, _) = write(&golden_plan(), &o);
    assert!(!w.reused);
}

#[test]
fn host_file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let write_host = |host: &Path| {
        let mut plan = LayerPlan::new();
        plan.add(
            p("/x"),
            Entry::file(FileSource::Host(host.to_path_buf()), MODE_DATA),
        )
        .unwrap();
        write_layer(&plan, &opts(Compression::default()), out.path()).unwrap_err()
    };

    let missing = dir.path().join("missing");
    let err = write_host(&missing);
    assert!(matches!(&err, LayerError::HostIo { path, .. } if *path == missing));
    assert!(err.to_string().contains("missing"));

    let err = write_host(dir.path());
    assert!(matches!(&err, LayerError::SpecialFile { path } if path == dir.path()));

    let sock = dir.path().join("s.sock");
    let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let err = write_host(&sock);
    assert!(matches!(&err, LayerError::SpecialFile { path } if *path == sock));

    // Failed writes leave no temp files behind.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn host_symlink_sources_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("libc.so.6.real"), b"ELF").unwrap();
    std::os::unix::fs::symlink("libc.so.6.real", dir.path().join("libc.so.6")).unwrap();
    let mut plan = LayerPlan::new();
    plan.add(
        p("/lib/libc.so.6"),
        Entry::file(FileSource::Host(dir.path().join("libc.so.6")), MODE_EXEC),
    )
    .unwrap();
    let (_, blob) = write(&plan, &opts(Compression::None));
    let seen = read_back(&blob);
    assert_eq!(seen[1].kind, tar::EntryType::Regular);
    assert_eq!(seen[1].data, b"ELF");
}

#[test]
fn host_tree_into_a_layer() {
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir(src.path().join("static")).unwrap();
    std::fs::write(src.path().join("static/index.html"), b"<h1>hi</h1>").unwrap();
    let mut plan = LayerPlan::new();
    plan.add_host_tree(src.path(), p("/srv/www"), None, 0, 0)
        .unwrap();
    let (_, blob) = write(&plan, &opts(Compression::zstd()));
    let seen = read_back(&decompress(Compression::zstd(), &blob));
    let names: Vec<&str> = seen.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "srv/",
            "srv/www/",
            "srv/www/static/",
            "srv/www/static/index.html"
        ]
    );
    let index = plan.get(&p("/srv/www/static/index.html")).unwrap();
    assert_eq!(index.kind, EntryKind::File);
    assert!(matches!(index.source, Some(FileSource::Host(_))));
}

/// Timings for the crate docs: `cargo test -p husk-layer --test layer -- --ignored --nocapture timing`.
/// Compares the chosen design (hash pass, then re-stream the tar into the encoder) with
/// spooling the tar to a file and compressing that.
#[test]
#[ignore = "timing report, run by hand"]
fn timing_20mb() {
    use std::time::Instant;
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("big.bin");
    // 20 MiB of mixed content: low-entropy "binary" blocks and text, about 35-45 % ratio.
    let mut data = Vec::with_capacity(20 << 20);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    while data.len() < 20 << 20 {
        for _ in 0..4096 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            data.push((state % 24) as u8 + b'0' * u8::from(state.is_multiple_of(3)));
        }
        data.extend_from_slice(&b"GLIBC_2.34 __libc_start_main memcpy strlen\n".repeat(48));
    }
    std::fs::write(&host, &data).unwrap();
    let mut plan = LayerPlan::new();
    plan.add(
        p("/app/big.bin"),
        Entry::file(FileSource::Host(host.clone()), MODE_EXEC),
    )
    .unwrap();
    for c in [Compression::default(), Compression::zstd()] {
        let cache = tempfile::tempdir().unwrap();
        let o = WriteOptions {
            cache_dir: Some(cache.path().to_path_buf()),
            ..opts(c)
        };
        let out = tempfile::tempdir().unwrap();
        let t = Instant::now();
        let cold = write_layer(&plan, &o, out.path()).unwrap();
        let cold_t = t.elapsed();
        let out2 = tempfile::tempdir().unwrap();
        let t = Instant::now();
        let warm = write_layer(&plan, &o, out2.path()).unwrap();
        let warm_t = t.elapsed();
        assert!(warm.reused && !cold.reused);
        let t = Instant::now();
        let nocache = write_layer(&plan, &opts(c), out2.path()).unwrap();
        let nocache_t = t.elapsed();

        // Alternative design: spool the tar to a file, hash it, compress from the spool.
        let out3 = tempfile::tempdir().unwrap();
        let t = Instant::now();
        let spool = write_layer(&plan, &opts(Compression::None), out3.path()).unwrap();
        let spool_only_t = t.elapsed();
        let mut reader = std::fs::File::open(&spool.blob).unwrap();
        let mut sink = Vec::new();
        match c {
            Compression::Gzip { level } => {
                let mut e = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(&mut sink, flate2::Compression::new(level));
                std::io::copy(&mut reader, &mut e).unwrap();
                e.finish().unwrap();
            }
            _ => {
                let mut e = zstd::stream::write::Encoder::new(&mut sink, 3).unwrap();
                e.multithread(2).unwrap();
                std::io::copy(&mut reader, &mut e).unwrap();
                e.finish().unwrap();
            }
        }
        let spool_t = t.elapsed();
        // The hash-only pass alone (what a cache hit costs before verifying the blob).
        let t = Instant::now();
        let _ = write_layer(&plan, &opts(Compression::None), out3.path()).unwrap();
        let tar_t = t.elapsed();
        eprintln!(
            "{c:?}: 20 MiB -> {} bytes; cold with cache store {cold_t:.2?}, cached {warm_t:.2?}, \
             no cache {nocache_t:.2?}; spool design: tar to file {spool_only_t:.2?}, \
             + compress {spool_t:.2?}; plain tar write {tar_t:.2?}",
            cold.descriptor.size
        );
        assert_eq!(nocache.descriptor, cold.descriptor);
    }
}
