//! Sinks and sources round-trip an image exactly; bad input is refused with a reason;
//! a write that fails midway leaves nothing at the destination.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use husk_formats::{FormatError, LocalRef};
use husk_oci::spec::{History, RootFs};
use husk_oci::{
    BlobData, BlobReader, Descriptor, Digest, Image, ImageConfig, NewLayer, OciError, OwnedImage,
    media,
};

/// A one-file layer as (gzip blob, diff_id).
fn layer(name: &str, content: &[u8]) -> (Vec<u8>, Digest) {
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(content.len() as u64);
    h.set_mode(0o444);
    h.set_mtime(0);
    h.set_cksum();
    tar.append_data(&mut h, name, content).unwrap();
    let raw = tar.into_inner().unwrap();
    let diff_id = Digest::sha256(&raw);
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    (gz.finish().unwrap(), diff_id)
}

fn image() -> OwnedImage {
    let layers = [
        ("etc/hello", &b"hello"[..]),
        ("app/data", &b"0123456789"[..]),
    ]
    .iter()
    .map(|(n, c)| {
        let (blob, diff_id) = layer(n, c);
        NewLayer {
            descriptor: Descriptor::for_bytes(media::OCI_LAYER_GZIP, &blob),
            diff_id,
            blob: BlobData::Bytes(Arc::from(blob)),
            created_by: format!("test {n}"),
            comment: None,
        }
    })
    .collect();
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs::default(),
        history: Vec::<History>::new(),
        ..Default::default()
    };
    OwnedImage::assemble(config, layers, BTreeMap::new())
}

fn valid(image: &dyn Image) {
    let r = husk_oci::validate(image).unwrap();
    assert!(r.is_valid(), "{:?}", r.problems);
}

#[test]
fn oci_dir_and_archive_round_trip_exactly() {
    let t = tempfile::tempdir().unwrap();
    let img = image();
    valid(&img);
    let dir = t.path().join("layout");
    husk_formats::write_oci_dir(&img, &dir, Some("demo:1")).unwrap();
    let back =
        husk_formats::open_oci_dir(&dir, Some("demo:1"), &husk_oci::PlatformChoice::Only).unwrap();
    assert_eq!(back.digest().unwrap(), img.digest().unwrap());
    valid(&back);
    let arch = t.path().join("a.tar");
    husk_formats::write_oci_archive(&back, &arch, Some("demo:1")).unwrap();
    let back2 =
        husk_formats::open_oci_archive(&arch, None, &husk_oci::PlatformChoice::Only).unwrap();
    assert_eq!(back2.digest().unwrap(), img.digest().unwrap());
    valid(&back2);
    // Byte-identical archives for the same image.
    let arch2 = t.path().join("b.tar");
    husk_formats::write_oci_archive(&img, &arch2, Some("demo:1")).unwrap();
    assert_eq!(
        std::fs::read(&arch).unwrap(),
        std::fs::read(&arch2).unwrap()
    );
}

#[test]
fn layout_keeps_other_images_and_replaces_same_ref() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("layout");
    let img = image();
    husk_formats::write_oci_dir(&img, &dir, Some("a")).unwrap();
    husk_formats::write_oci_dir(&img, &dir, Some("b")).unwrap();
    // Same digest under two names: the second replaces the first entry (one manifest per digest).
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert!(husk_formats::open_oci_dir(&dir, Some("b"), &husk_oci::PlatformChoice::Only).is_ok());
    let err = husk_formats::open_oci_dir(&dir, Some("zzz"), &husk_oci::PlatformChoice::Only)
        .err()
        .unwrap();
    assert!(matches!(err, FormatError::RefNotFound { .. }), "{err}");
}

#[test]
fn docker_archive_round_trip_keeps_config_and_diff_ids() {
    let t = tempfile::tempdir().unwrap();
    let img = image();
    let path = t.path().join("d.tar");
    husk_formats::write_docker_archive(&img, &path, &["demo:1".into()]).unwrap();
    let back = husk_formats::open_docker_archive(&path, Some("demo:1")).unwrap();
    valid(&back);
    assert_eq!(
        back.manifest().unwrap().config.digest,
        img.manifest().unwrap().config.digest
    );
    assert_eq!(back.config().unwrap(), img.config().unwrap());
    // Unnamed lookup works when there is one image; a wrong name lists what there is.
    assert!(husk_formats::open_docker_archive(&path, None).is_ok());
    let err = husk_formats::open_docker_archive(&path, Some("other:2"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("demo:1"), "{err}");
}

/// An image whose second layer's reader fails halfway.
struct Failing(OwnedImage);

impl Image for Failing {
    fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
        self.0.raw_manifest()
    }
    fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        let m = self.0.manifest()?;
        let inner = self.0.open_blob(desc)?;
        if desc.digest == m.layers[1].digest {
            Ok(Box::new(inner.take(desc.size / 2).chain(FailRead)))
        } else {
            Ok(inner)
        }
    }
    fn location(&self) -> String {
        "failing".into()
    }
}

struct FailRead;
impl Read for FailRead {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk on fire"))
    }
}

fn no_leftovers(dir: &Path) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}

#[test]
fn failed_writes_leave_nothing() {
    let t = tempfile::tempdir().unwrap();
    let img = Failing(image());
    for dest in [
        "oci:{}/x",
        "oci-archive:{}/x.tar",
        "docker-archive:{}/x.tar",
    ] {
        let r: LocalRef = dest
            .replace("{}", &t.path().display().to_string())
            .parse()
            .unwrap();
        let err = husk_formats::write(&img, &r, &["x:1".into()])
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("disk on fire") || format!("{err:?}").contains("disk on fire"),
            "{err:?}"
        );
        no_leftovers(t.path());
    }
}

#[test]
fn existing_archive_is_replaced_atomically() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("x.tar");
    husk_formats::write_oci_archive(&image(), &path, Some("a")).unwrap();
    let before = std::fs::read(&path).unwrap();
    // A failed rewrite leaves the old archive intact.
    assert!(husk_formats::write_oci_archive(&Failing(image()), &path, Some("a")).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Write a tar with the given (name, bytes) entries.
fn tar_of(path: &Path, entries: &[(&str, &[u8])]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        // set_path refuses "..", so write the raw name bytes.
        let bytes = name.as_bytes();
        h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.finish().unwrap();
}

#[test]
fn hostile_archives_are_refused_with_a_reason() {
    let t = tempfile::tempdir().unwrap();
    let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    // Path traversal entry.
    let p = t.path().join("evil.tar");
    tar_of(&p, &[("oci-layout", layout), ("../escape", b"x")]);
    let e = husk_formats::open_oci_archive(&p, None, &husk_oci::PlatformChoice::Only)
        .err()
        .unwrap();
    assert!(matches!(e, FormatError::UnsafeArchiveEntry { .. }), "{e}");
    // A manifest that is also an index.
    let manifest = br#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[],"manifests":[]}"#;
    let md = Digest::sha256(manifest);
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{}}}]}}"#,
        manifest.len()
    );
    let p = t.path().join("ambiguous.tar");
    let blob = format!("blobs/sha256/{}", md.hex());
    tar_of(
        &p,
        &[
            ("oci-layout", layout),
            ("index.json", index.as_bytes()),
            (&blob, manifest),
        ],
    );
    let e = husk_formats::open_oci_archive(&p, None, &husk_oci::PlatformChoice::Only)
        .err()
        .unwrap();
    assert!(e.to_string().contains("ambiguous"), "{e}");
    // A manifest whose bytes do not match the digest the index names.
    let p = t.path().join("wrong.tar");
    let mut other = manifest.to_vec();
    other[0] = b' ';
    tar_of(
        &p,
        &[
            ("oci-layout", layout),
            ("index.json", index.as_bytes()),
            (&blob, &other),
        ],
    );
    let e = husk_formats::open_oci_archive(&p, None, &husk_oci::PlatformChoice::Only)
        .err()
        .unwrap();
    assert!(e.to_string().contains("does not match"), "{e}");
    // Not an archive at all.
    let p = t.path().join("junk.tar");
    std::fs::write(
        &p,
        b"this is not a tar file at all, not even close............",
    )
    .unwrap();
    assert!(husk_formats::open_oci_archive(&p, None, &husk_oci::PlatformChoice::Only).is_err());
    assert!(husk_formats::open_docker_archive(&p, None).is_err());
    // A docker-archive whose config is named for another digest than its content (the
    // way engines name it, <hex>.json or blobs/sha256/<hex>); any other name is taken
    // as it is.
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let right = Digest::sha256(config).hex().to_owned();
    let wrong = Digest::sha256(b"another config").hex().to_owned();
    for (name, ok) in [
        (format!("{right}.json"), true),
        (format!("blobs/sha256/{right}"), true),
        ("config.json".to_owned(), true),
        (format!("{wrong}.json"), false),
        (format!("blobs/sha256/{wrong}"), false),
    ] {
        let manifest = format!(r#"[{{"Config":"{name}","RepoTags":null,"Layers":[]}}]"#);
        let p = t.path().join("renamed.tar");
        tar_of(
            &p,
            &[("manifest.json", manifest.as_bytes()), (&name, config)],
        );
        match husk_formats::open_docker_archive(&p, None) {
            Ok(_) => assert!(ok, "{name} accepted"),
            Err(e) => {
                assert!(!ok, "{name}: {e}");
                assert!(e.to_string().contains("is named for"), "{e}");
            }
        }
    }
}

#[test]
fn symlinked_blob_in_layout_is_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("layout");
    let img = image();
    husk_formats::write_oci_dir(&img, &dir, None).unwrap();
    let m = img.manifest().unwrap();
    let blob = dir.join(m.layers[0].digest.blob_path());
    std::fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &blob).unwrap();
    let back = husk_formats::open_oci_dir(&dir, None, &husk_oci::PlatformChoice::Only).unwrap();
    let r = husk_oci::validate(&back).unwrap();
    assert!(!r.is_valid());
}

fn image_for(arch: &str) -> OwnedImage {
    let (blob, diff_id) = layer("etc/arch", arch.as_bytes());
    let config = ImageConfig {
        architecture: arch.into(),
        os: "linux".into(),
        ..Default::default()
    };
    OwnedImage::assemble(
        config,
        vec![NewLayer {
            descriptor: Descriptor::for_bytes(media::OCI_LAYER_GZIP, &blob),
            diff_id,
            blob: BlobData::Bytes(Arc::from(blob)),
            created_by: format!("test {arch}"),
            comment: None,
        }],
        BTreeMap::new(),
    )
}

fn two_platforms() -> husk_oci::OwnedIndex {
    husk_oci::OwnedIndex::assemble(
        vec![Box::new(image_for("amd64")), Box::new(image_for("arm64"))],
        BTreeMap::new(),
    )
    .unwrap()
}

#[test]
fn a_multi_platform_index_round_trips_whole_through_dir_and_archive() {
    let t = tempfile::tempdir().unwrap();
    let idx = two_platforms();
    for dest in [
        format!("oci:{}:multi", t.path().join("dir").display()),
        format!("oci-archive:{}:multi", t.path().join("a.tar").display()),
    ] {
        let r: LocalRef = dest.parse().unwrap();
        let written = husk_formats::write_index(&idx, &r, &[], 4).unwrap();
        let entry = written.descriptor.unwrap();
        assert_eq!(entry.media_type, media::OCI_INDEX);
        assert_eq!(entry.digest, idx.digest());
        let back = husk_formats::open_index(&r).unwrap().expect("an index");
        assert_eq!(back.raw(), idx.raw(), "{dest}");
        assert_eq!(back.media_type(), media::OCI_INDEX);
        assert_eq!(back.images().len(), 2);
        for (a, b) in back.images().iter().zip(idx.images()) {
            assert_eq!(a.digest().unwrap(), b.digest().unwrap());
            valid(a.as_ref());
        }
        // One image by platform; none without it.
        let arm = husk_formats::open(
            &r,
            &husk_formats::PlatformChoice::Exactly(
                husk_formats::parse_platform("linux/arm64").unwrap(),
            ),
        )
        .unwrap();
        assert_eq!(arm.config().unwrap().architecture, "arm64");
        let e = husk_formats::open(&r, &husk_formats::PlatformChoice::Only)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("linux/amd64, linux/arm64"), "{e}");
    }
    // A single image is not an index.
    let single = t.path().join("single");
    husk_formats::write_oci_dir(&image(), &single, Some("one")).unwrap();
    assert!(
        husk_formats::open_oci_dir_index(&single, Some("one"))
            .unwrap()
            .is_none()
    );
    // Media that hold one image refuse an index with the way out.
    let e = husk_formats::write_index(
        &idx,
        &format!("docker-archive:{}", t.path().join("d.tar").display())
            .parse()
            .unwrap(),
        &[],
        4,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("--platform"), "{e}");
}

#[test]
fn an_index_whose_manifest_is_missing_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("dir");
    let idx = two_platforms();
    husk_formats::write_oci_dir_index(&idx, &dir, Some("m"), 4).unwrap();
    let arm = &idx.document().manifests[1];
    std::fs::remove_file(dir.join(arm.digest.blob_path())).unwrap();
    let e = husk_formats::open_oci_dir_index(&dir, Some("m"))
        .unwrap_err()
        .to_string();
    assert!(e.contains(&arm.digest.to_string()), "{e}");
}

#[test]
fn published_outputs_are_readable() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let img = image();
    let dir = t.path().join("layout");
    husk_formats::write_oci_dir(&img, &dir, None).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o755);
    for blob in std::fs::read_dir(dir.join("blobs/sha256")).unwrap() {
        assert_eq!(mode(&blob.unwrap().path()), 0o644);
    }
    let arch = t.path().join("a.tar");
    husk_formats::write_oci_archive(&img, &arch, None).unwrap();
    assert_eq!(mode(&arch), 0o644);
}
