//! Device nodes and FIFOs on the way out (issue 15): `husk export` and `husk cp` leave an
//! image's `/dev/mem` (1:1), `/dev/sda` (8:0) and FIFOs out unless `--devices` is given,
//! and say so in one line; with `--devices` a tar carries them and a directory gets them
//! only when husk runs as root (else a note says why not).

mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use common::husk_run;

/// A layer with /dev/mem (char 1:1), /dev/sda (block 8:0), /run/pipe (fifo) and a file.
fn device_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    for d in ["dev/", "run/", "etc/"] {
        b.append_data(&mut dir.clone(), d, &b""[..]).unwrap();
    }
    for (name, kind, major, minor) in [
        ("dev/mem", tar::EntryType::Char, 1, 1),
        ("dev/sda", tar::EntryType::Block, 8, 0),
        ("run/pipe", tar::EntryType::Fifo, 0, 0),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(0o600);
        h.set_size(0);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        b.append_data(&mut h, name, &b""[..]).unwrap();
    }
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(3);
    b.append_data(&mut h, "etc/hostname", &b"box"[..]).unwrap();
    b.into_inner().unwrap()
}

fn layout(dir: &Path, tar: &[u8]) -> String {
    common::oci_layout_of_tar(dir, tar, serde_json::json!({}))
}

const SUMMARY: &str = "skipped 1 character device, 1 block device, 1 fifo";

/// The names of a tar's entries with their types.
fn tar_names(path: &Path) -> Vec<String> {
    let f = std::fs::File::open(path).unwrap();
    tar::Archive::new(f)
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            format!(
                "{} {:?}",
                e.path().unwrap().display(),
                e.header().entry_type()
            )
        })
        .collect()
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[test]
fn export_into_a_directory_skips_devices_and_fifos_unless_asked() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let image = layout(&dir.join("img"), &device_tar());
    let out = dir.join("out");
    let r = husk_run(dir, &["export", &image, out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("skipped").count(),
        1,
        "one summary line:\n{}",
        r.stderr
    );
    assert!(r.stderr.contains(SUMMARY), "{}", r.stderr);
    assert!(r.stderr.contains("--devices"), "{}", r.stderr);
    for p in ["dev/mem", "dev/sda", "run/pipe"] {
        assert!(out.join(p).symlink_metadata().is_err(), "{p} was created");
    }
    assert_eq!(std::fs::read(out.join("etc/hostname")).unwrap(), b"box");

    let out = dir.join("out-devices");
    let r = husk_run(dir, &["export", "--devices", &image, out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    if is_root() {
        assert!(!r.stderr.contains("skipped"), "{}", r.stderr);
        let ft = |p: &str| out.join(p).symlink_metadata().unwrap().file_type();
        assert!(ft("dev/mem").is_char_device());
        assert!(ft("dev/sda").is_block_device());
        assert!(ft("run/pipe").is_fifo());
        use std::os::unix::fs::MetadataExt;
        let rdev = out.join("dev/mem").symlink_metadata().unwrap().rdev();
        assert_eq!(rustix::fs::major(rdev), 1);
        assert_eq!(rustix::fs::minor(rdev), 1);
        // Do not leave a real /dev/mem node behind longer than the test.
        for p in ["dev/mem", "dev/sda"] {
            std::fs::remove_file(out.join(p)).unwrap();
        }
    } else {
        assert!(r.stderr.contains(SUMMARY), "{}", r.stderr);
        assert!(r.stderr.contains("only root"), "{}", r.stderr);
        assert!(out.join("dev/mem").symlink_metadata().is_err());
    }
}

#[test]
fn export_to_a_tar_writes_devices_only_with_the_flag() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let image = layout(&dir.join("img"), &device_tar());
    let plain = dir.join("plain.tar");
    let r = husk_run(dir, &["export", &image, plain.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains(SUMMARY), "{}", r.stderr);
    let names = tar_names(&plain);
    assert!(
        names.contains(&"etc/hostname Regular".to_owned()),
        "{names:?}"
    );
    for n in &names {
        assert!(
            !n.starts_with("dev/mem") && !n.starts_with("dev/sda") && !n.starts_with("run/pipe"),
            "{names:?}"
        );
    }
    let full = dir.join("full.tar");
    let r = husk_run(
        dir,
        &["export", "--devices", &image, full.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("skipped"), "{}", r.stderr);
    let names = tar_names(&full);
    for want in ["dev/mem Char", "dev/sda Block", "run/pipe Fifo"] {
        assert!(names.contains(&want.to_owned()), "{want} in {names:?}");
    }
}

#[test]
fn cp_skips_devices_and_fifos_unless_asked() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let image = layout(&dir.join("img"), &device_tar());
    let out = dir.join("dev");
    let r = husk_run(dir, &["cp", &image, "/dev", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("skipped 1 character device, 1 block device: pass --devices"),
        "{}",
        r.stderr
    );
    assert!(out.join("mem").symlink_metadata().is_err());
    // One special file as the PATH: skipped the same way.
    let one = dir.join("pipe");
    let r = husk_run(dir, &["cp", &image, "/run/pipe", one.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("skipped 1 fifo"), "{}", r.stderr);
    assert!(one.symlink_metadata().is_err());
    if is_root() {
        let r = husk_run(
            dir,
            &[
                "cp",
                "--devices",
                &image,
                "/run/pipe",
                one.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(one.symlink_metadata().unwrap().file_type().is_fifo());
    }
}
