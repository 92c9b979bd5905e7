//! The copy's decisions, on local `oci:` layouts and archives (no registry needed):
//! image -> oci, index -> oci (whole, exact bytes), index -> docker-archive (its only
//! image, or an error listing the platforms), `--all` refused by a single-image
//! destination before anything is read, `--platform` picks one image.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use husk_oci::{
    BlobData, Descriptor, Digest, Image, ImageConfig, NewLayer, OwnedImage, OwnedIndex, media,
};
use husk_transport::{Context, CopyOptions, ImageRef, Source, TransportError};

fn image_for(arch: &str) -> OwnedImage {
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(arch.len() as u64);
    h.set_mode(0o444);
    h.set_mtime(0);
    h.set_cksum();
    tar.append_data(&mut h, "etc/arch", arch.as_bytes())
        .unwrap();
    let raw = tar.into_inner().unwrap();
    let diff_id = Digest::sha256(&raw);
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let blob = gz.finish().unwrap();
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

fn index_of(arches: &[&str]) -> OwnedIndex {
    let images: Vec<Box<dyn Image>> = arches
        .iter()
        .map(|a| Box::new(image_for(a)) as Box<dyn Image>)
        .collect();
    OwnedIndex::assemble(images, BTreeMap::new()).unwrap()
}

fn reference(s: String) -> ImageRef {
    s.parse().unwrap()
}

/// An `oci:` layout holding `index` under the ref-name `multi`.
fn layout_with(dir: &Path, index: &OwnedIndex) -> ImageRef {
    let r = reference(format!("oci:{}:multi", dir.display()));
    let ImageRef::Local(l) = &r else {
        unreachable!()
    };
    husk_formats::write_index(index, l, &[], 2).unwrap();
    r
}

#[test]
fn an_image_copies_to_an_oci_layout() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Context::default();
    let img = image_for("amd64");
    let dest = reference(format!("oci:{}", t.path().join("out").display()));
    let opts = CopyOptions {
        names: vec!["v1".into()],
        ..CopyOptions::default()
    };
    let report = ctx.copy(Source::Image(&img), &dest, &opts).unwrap();
    assert_eq!(report.digest, img.digest().unwrap());
    assert!(report.index.is_none() && report.push.is_none());
    // The written image copies on, by reference, to another layout.
    let src = reference(format!("oci:{}:v1", t.path().join("out").display()));
    let again = reference(format!("oci:{}", t.path().join("again").display()));
    let second = ctx
        .copy(Source::Reference(&src), &again, &CopyOptions::default())
        .unwrap();
    assert_eq!(second.digest, report.digest);
    assert_eq!(second.source, src.to_string());
    let back = ctx.open(&again, &husk_oci::PlatformChoice::Only).unwrap();
    assert_eq!(back.digest().unwrap(), report.digest);
}

#[test]
fn an_index_copies_whole_to_an_oci_layout_and_archive() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Context::default();
    let idx = index_of(&["amd64", "arm64"]);
    let src = layout_with(&t.path().join("src"), &idx);
    for dest in [
        reference(format!("oci:{}:copy", t.path().join("dir").display())),
        reference(format!(
            "oci-archive:{}:copy",
            t.path().join("a.tar").display()
        )),
    ] {
        let report = ctx
            .copy(Source::Reference(&src), &dest, &CopyOptions::default())
            .unwrap();
        assert_eq!(report.digest, idx.digest(), "{dest}");
        let copied = report.index.expect("copied whole");
        assert_eq!(copied.images, 2);
        assert_eq!(copied.platforms, ["linux/amd64", "linux/arm64"]);
        let husk_transport::Opened::Index(back) = ctx.open_whole(&dest, None).unwrap() else {
            panic!("{dest} holds no index");
        };
        assert_eq!(back.raw(), idx.raw(), "exact index bytes in {dest}");
    }
}

#[test]
fn platform_picks_one_image_of_an_index() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Context::default();
    let idx = index_of(&["amd64", "arm64"]);
    let src = layout_with(&t.path().join("src"), &idx);
    let dest = reference(format!("oci:{}", t.path().join("one").display()));
    let opts = CopyOptions {
        platform: Some(husk_oci::parse_platform("linux/arm64").unwrap()),
        ..CopyOptions::default()
    };
    let report = ctx.copy(Source::Reference(&src), &dest, &opts).unwrap();
    assert!(report.index.is_none());
    assert_eq!(report.digest, image_for("arm64").digest().unwrap());
}

#[test]
fn an_index_of_one_image_gives_a_docker_archive_that_image() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Context::default();
    let idx = index_of(&["amd64"]);
    let src = layout_with(&t.path().join("src"), &idx);
    let dest = reference(format!(
        "docker-archive:{}",
        t.path().join("d.tar").display()
    ));
    let opts = CopyOptions {
        names: vec!["demo:1".into()],
        ..CopyOptions::default()
    };
    let report = ctx.copy(Source::Reference(&src), &dest, &opts).unwrap();
    assert!(report.index.is_none());
    assert_eq!(report.digest, image_for("amd64").digest().unwrap());
    let back = ctx.open(&dest, &husk_oci::PlatformChoice::Only).unwrap();
    assert_eq!(back.config().unwrap().architecture, "amd64");
}

#[test]
fn an_index_of_several_platforms_into_a_docker_archive_gives_this_machines_image() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Context::default();
    let host = husk_oci::host_platform().architecture;
    let idx = index_of(&["s390x", &host, "riscv64"]);
    let src = layout_with(&t.path().join("src"), &idx);
    let dest = reference(format!(
        "docker-archive:{}",
        t.path().join("d.tar").display()
    ));
    let report = ctx
        .copy(Source::Reference(&src), &dest, &CopyOptions::default())
        .unwrap();
    assert!(report.index.is_none());
    assert_eq!(report.digest, image_for(&host).digest().unwrap());
}

#[test]
fn an_index_without_this_machines_image_into_a_docker_archive_lists_them() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Context::default();
    let idx = index_of(&["s390x", "riscv64"]);
    let src = layout_with(&t.path().join("src"), &idx);
    let file = t.path().join("d.tar");
    let dest = reference(format!("docker-archive:{}", file.display()));
    let err = ctx
        .copy(Source::Reference(&src), &dest, &CopyOptions::default())
        .unwrap_err();
    assert!(matches!(err, TransportError::Platform(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("--platform") && msg.contains("linux/s390x, linux/riscv64"),
        "{msg}"
    );
    assert!(!file.exists(), "nothing written");
}

#[test]
fn all_refuses_a_single_image_destination_before_reading() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Context::default();
    // The source does not even exist: the refusal comes first.
    let src = reference(format!("oci:{}", t.path().join("absent").display()));
    let file = t.path().join("d.tar");
    let dest = reference(format!("docker-archive:{}", file.display()));
    let opts = CopyOptions {
        all: true,
        ..CopyOptions::default()
    };
    let err = ctx.copy(Source::Reference(&src), &dest, &opts).unwrap_err();
    assert!(
        matches!(err, TransportError::IndexUnsupported { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("cannot hold a multi-platform index"),
        "{err}"
    );
    assert!(!file.exists());
    // Into a layout, --all copies the index whole.
    let idx = index_of(&["amd64", "arm64"]);
    let src = layout_with(&t.path().join("src"), &idx);
    let dest = reference(format!("oci:{}", t.path().join("all").display()));
    let report = ctx.copy(Source::Reference(&src), &dest, &opts).unwrap();
    assert_eq!(report.digest, idx.digest());
}

#[test]
fn a_destination_that_is_not_ours_is_refused_before_reading() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Context::default();
    let file = t.path().join("notes.txt");
    std::fs::write(&file, "mine").unwrap();
    let dest = reference(format!("oci-archive:{}", file.display()));
    let img = image_for("amd64");
    let err = ctx
        .copy(Source::Image(&img), &dest, &CopyOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("refusing to write"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}
