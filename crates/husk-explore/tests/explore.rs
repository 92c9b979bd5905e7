//! Crafted layers for every whiteout rule, every extraction escape, the resource limits and
//! blob verification. Hostile names are written with raw ustar headers (the `tar` crate
//! refuses to write them); ordinary ones with the `tar` crate.

use std::collections::BTreeMap;
use std::path::Path;

use husk_explore::*;
use husk_layer::ImagePath;
use husk_oci::media::OCI_LAYER_TAR;
use husk_oci::{
    BlobData, Descriptor, Digest, ImageConfig, NewLayer, OciError, OwnedImage, layers_of,
};

// ---------- layer building ----------

/// A raw tar under construction: any name, any type, checksum computed.
#[derive(Default)]
struct Raw(Vec<u8>);

impl Raw {
    fn entry(mut self, name: &str, typeflag: u8, link: &str, data: &[u8], mode: u32) -> Raw {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let octal = |h: &mut [u8; 512], at: usize, len: usize, v: u64| {
            let s = format!("{v:0w$o}\0", w = len - 1);
            h[at..at + len].copy_from_slice(s.as_bytes());
        };
        octal(&mut h, 100, 8, u64::from(mode));
        octal(&mut h, 108, 8, 0);
        octal(&mut h, 116, 8, 0);
        octal(&mut h, 124, 12, data.len() as u64);
        octal(&mut h, 136, 12, 0);
        h[156] = typeflag;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].fill(b' ');
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        self.0.extend_from_slice(&h);
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0, pad));
        self
    }
    fn file(self, name: &str, data: &[u8]) -> Raw {
        self.entry(name, b'0', "", data, 0o644)
    }
    fn file_mode(self, name: &str, data: &[u8], mode: u32) -> Raw {
        self.entry(name, b'0', "", data, mode)
    }
    fn dir(self, name: &str) -> Raw {
        self.entry(name, b'5', "", b"", 0o755)
    }
    fn dir_mode(self, name: &str, mode: u32) -> Raw {
        self.entry(name, b'5', "", b"", mode)
    }
    fn symlink(self, name: &str, target: &str) -> Raw {
        self.entry(name, b'2', target, b"", 0o777)
    }
    fn hardlink(self, name: &str, target: &str) -> Raw {
        self.entry(name, b'1', target, b"", 0o644)
    }
    fn done(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&[0u8; 1024]);
        self.0
    }
}

/// An image of uncompressed layers.
fn image(layers: Vec<Vec<u8>>) -> OwnedImage {
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        ..ImageConfig::default()
    };
    let layers = layers
        .into_iter()
        .enumerate()
        .map(|(i, bytes)| NewLayer {
            descriptor: Descriptor::for_bytes(OCI_LAYER_TAR, &bytes),
            diff_id: Digest::sha256(&bytes),
            blob: BlobData::Bytes(bytes.into()),
            created_by: format!("layer {i}"),
            comment: None,
        })
        .collect();
    OwnedImage::assemble(config, layers, BTreeMap::new())
}

/// An image whose config gives the layer a diff_id its tar does not have.
fn image_with_wrong_diff_id(bytes: Vec<u8>) -> OwnedImage {
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        ..ImageConfig::default()
    };
    let layer = NewLayer {
        descriptor: Descriptor::for_bytes(OCI_LAYER_TAR, &bytes),
        diff_id: Digest::sha256(b"another tar"),
        blob: BlobData::Bytes(bytes.into()),
        created_by: "layer 0".into(),
        comment: None,
    };
    OwnedImage::assemble(config, vec![layer], BTreeMap::new())
}

/// The whole merged view of `img` as one tar (`husk export x.tar`).
fn export_all(img: &OwnedImage) -> Vec<u8> {
    let fs = view(img).unwrap();
    let mut out = Vec::new();
    export_tar(
        &layers_of(img).unwrap(),
        &fs,
        &ImagePath::root(),
        &mut out,
        Path::new("t"),
        Limits::default(),
        false,
    )
    .unwrap();
    out
}

fn view_with(img: &OwnedImage, opts: ViewOptions) -> Result<Filesystem, ExploreError> {
    Filesystem::build(&layers_of(img).unwrap(), opts)
}

fn view(img: &OwnedImage) -> Result<Filesystem, ExploreError> {
    view_with(img, ViewOptions::default())
}

fn p(s: &str) -> ImagePath {
    ImagePath::parse(s).unwrap()
}

fn paths(fs: &Filesystem) -> Vec<String> {
    fs.walk(&ImagePath::root())
        .map(|(p, _)| p.to_string())
        .collect()
}

fn cat(img: &OwnedImage, fs: &Filesystem, path: &str) -> String {
    let (_, node) = fs.lookup(&p(path), true).unwrap();
    let mut out = Vec::new();
    copy_content(
        &layers_of(img).unwrap(),
        node.content.unwrap(),
        &mut out,
        Path::new("test"),
        Limits::default(),
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

// ---------- reader ----------

#[test]
fn long_names_pax_gnu_and_ustar_prefix_are_read() {
    let long = format!("{}/file", "d".repeat(150));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    b.append_data(&mut h, &long, &b"hi"[..]).unwrap(); // GNU long name
    let pax_name = format!("{}/pax", "p".repeat(200));
    b.append_pax_extensions([("path", pax_name.as_bytes()), ("uid", b"70000".as_slice())])
        .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_size(1);
    h.set_mode(0o600);
    h.as_ustar_mut().unwrap().name[..5].copy_from_slice(b"short");
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path(format!("{}/{}", "q".repeat(120), "n".repeat(90)))
        .unwrap(); // split into prefix + name
    h.set_size(0);
    h.set_cksum();
    b.append(&h, &b""[..]).unwrap();
    let img = image(vec![b.into_inner().unwrap()]);
    let fs = view(&img).unwrap();
    let (_, n) = fs.lookup(&p(&format!("/{long}")), false).unwrap();
    assert_eq!(n.size, 2);
    let (_, n) = fs.lookup(&p(&format!("/{pax_name}")), false).unwrap();
    assert_eq!((n.uid, n.mode), (70000, 0o600));
    assert!(
        fs.get(&p(&format!("/{}/{}", "q".repeat(120), "n".repeat(90))))
            .is_some()
    );
    assert_eq!(cat(&img, &fs, &format!("/{long}")), "hi");
}

#[test]
fn limits_have_typed_errors() {
    let many = (0..20)
        .fold(Raw::default(), |r, i| r.file(&format!("f{i}"), b""))
        .done();
    let opts = |l: Limits| ViewOptions {
        limits: l,
        hash: false,
    };
    let err = view_with(
        &image(vec![many]),
        opts(Limits {
            max_entries: 10,
            ..Limits::default()
        }),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ExploreError::Limit {
                what: "number of tar entries",
                limit: 10,
                ..
            }
        ),
        "{err}"
    );

    let mut b = tar::Builder::new(Vec::new());
    let big = "x".repeat(3000);
    b.append_pax_extensions([("comment", big.as_bytes())])
        .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("a").unwrap();
    h.set_size(0);
    h.set_cksum();
    b.append(&h, &b""[..]).unwrap();
    let err = view_with(
        &image(vec![b.into_inner().unwrap()]),
        opts(Limits {
            max_header_bytes: 1024,
            ..Limits::default()
        }),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ExploreError::Limit {
                what: "PAX extended header size",
                ..
            }
        ),
        "{err}"
    );

    let bomb = Raw::default().file("big", &[0u8; 10_000]).done();
    let err = view_with(
        &image(vec![bomb]),
        opts(Limits {
            max_layer_bytes: 4096,
            ..Limits::default()
        }),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ExploreError::Limit {
                what: "decompressed size",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("layer 0"), "{err}");

    // A GNU long name longer than PATH_MAX.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    b.append_data(&mut h, format!("{}/x", "a/".repeat(2100)), &b""[..])
        .unwrap();
    let err = view(&image(vec![b.into_inner().unwrap()])).unwrap_err();
    assert!(matches!(err, ExploreError::BadName { .. }), "{err}");
}

#[test]
fn corrupt_and_hostile_headers_are_refused() {
    let good = Raw::default().file("a", b"data").done();
    let mut bad_sum = good.clone();
    bad_sum[0] = b'b';
    assert!(matches!(
        view(&image(vec![bad_sum])).unwrap_err(),
        ExploreError::BadHeader { .. }
    ));
    let truncated = good[..512 + 2].to_vec();
    assert!(matches!(
        view(&image(vec![truncated])).unwrap_err(),
        ExploreError::Truncated { .. }
    ));
    for name in ["../etc/passwd", "a/../../b", ".."] {
        let err = view(&image(vec![Raw::default().file(name, b"x").done()])).unwrap_err();
        assert!(matches!(err, ExploreError::BadName { .. }), "{name}: {err}");
    }
    let sparse = Raw::default().entry("s", b'S', "", b"", 0o644).done();
    assert!(matches!(
        view(&image(vec![sparse])).unwrap_err(),
        ExploreError::UnsupportedEntry { kind: 'S', .. }
    ));
    // A symlink target longer than Linux allows (given by a PAX linkpath): an error about
    // the target, not the name, which does not print all of it.
    let target = "t".repeat(5000);
    let body = format!("linkpath={target}\n");
    let mut len = body.len() + 2;
    while format!("{len} {body}").len() != len {
        len += 1;
    }
    let record = format!("{len} {body}");
    let layer = Raw::default()
        .entry("PaxHeaders/deep", b'x', "", record.as_bytes(), 0o644)
        .symlink("deep", "short")
        .done();
    let err = view(&image(vec![layer])).unwrap_err();
    assert!(
        matches!(&err, ExploreError::BadSymlinkEntry { name, .. } if name == "deep"),
        "{err:?}"
    );
    let shown = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(
        shown.contains("invalid target") && shown.contains("5000 bytes"),
        "{shown}"
    );
    assert!(shown.len() < 400, "{shown}");
    // An absolute name is taken from the image root, never from the host root.
    let fs = view(&image(vec![Raw::default().file("/etc/abs", b"x").done()])).unwrap();
    assert!(fs.get(&p("/etc/abs")).is_some());
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_an_error_naming_it() {
    let bytes = Raw::default().file("a", b"original").done();
    let digest = Digest::sha256(&bytes);
    let mut tampered = bytes.clone();
    let at = tampered.windows(8).position(|w| w == b"original").unwrap();
    tampered[at] = b'O';
    let layer = NewLayer {
        descriptor: Descriptor::new(OCI_LAYER_TAR, digest.clone(), bytes.len() as u64),
        diff_id: digest.clone(),
        blob: BlobData::Bytes(tampered.into()),
        created_by: "tampered".into(),
        comment: None,
    };
    let img = OwnedImage::assemble(
        ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..ImageConfig::default()
        },
        vec![layer],
        BTreeMap::new(),
    );
    let err = view(&img).unwrap_err();
    assert!(err.to_string().contains(&digest.to_string()), "{err}");
}

// ---------- whiteouts ----------

#[test]
fn whiteouts_delete_lower_files_and_directories() {
    let l0 = Raw::default()
        .dir("etc/")
        .file("etc/keep", b"k")
        .file("etc/gone", b"g")
        .dir("var/")
        .dir("var/cache/")
        .file("var/cache/x", b"x")
        .done();
    let l1 = Raw::default()
        .file("etc/.wh.gone", b"")
        .file(".wh.var", b"")
        .done();
    let fs = view(&image(vec![l0, l1])).unwrap();
    assert_eq!(paths(&fs), ["/", "/etc", "/etc/keep"]);
}

#[test]
fn a_whiteout_hides_only_lower_layers() {
    // The same layer recreates what it whites out: the new entry stays, whatever the order.
    let l0 = Raw::default().dir("a/").file("a/x", b"old").done();
    let l1 = Raw::default()
        .file("a/x", b"new")
        .file("a/.wh.x", b"")
        .done();
    let img = image(vec![l0, l1]);
    let fs = view(&img).unwrap();
    assert_eq!(cat(&img, &fs, "/a/x"), "new");
    // A whiteout before a same-layer entry of the same name: also kept.
    let l0 = Raw::default().dir("a/").file("a/x", b"old").done();
    let l1 = Raw::default()
        .file("a/.wh.x", b"")
        .file("a/x", b"new")
        .done();
    let img = image(vec![l0, l1]);
    assert_eq!(cat(&img, &view(&img).unwrap(), "/a/x"), "new");
    // And a whiteout of something only the same layer has hides nothing.
    let l0 = Raw::default().file("a/y", b"y").file("a/.wh.y", b"").done();
    assert!(view(&image(vec![l0])).unwrap().get(&p("/a/y")).is_some());
}

#[test]
fn opaque_markers_apply_regardless_of_position() {
    let l0 = Raw::default()
        .dir("a/")
        .dir("a/b/")
        .dir("a/b/c/")
        .file("a/b/c/bar", b"bar")
        .file("a/top", b"t")
        .done();
    let first = Raw::default()
        .dir("a/")
        .file("a/.wh..wh..opq", b"")
        .dir("a/b/")
        .dir("a/b/c/")
        .file("a/b/c/foo", b"foo")
        .done();
    let last = Raw::default()
        .dir("a/")
        .dir("a/b/")
        .dir("a/b/c/")
        .file("a/b/c/foo", b"foo")
        .file("a/.wh..wh..opq", b"")
        .done();
    for l1 in [first, last] {
        let fs = view(&image(vec![l0.clone(), l1])).unwrap();
        assert_eq!(paths(&fs), ["/", "/a", "/a/b", "/a/b/c", "/a/b/c/foo"]);
    }
}

#[test]
fn malformed_whiteouts_are_refused() {
    for name in ["a/.wh.", "a/.wh..", "a/.wh.b/c", ".wh..wh.plnk"] {
        let l = Raw::default().dir("a/").file(name, b"").done();
        let err = view(&image(vec![l])).unwrap_err();
        assert!(
            matches!(err, ExploreError::BadWhiteout { .. }),
            "{name}: {err}"
        );
    }
    let l = Raw::default().dir("a/.wh.b/").done();
    assert!(matches!(
        view(&image(vec![l])).unwrap_err(),
        ExploreError::BadWhiteout { .. }
    ));
}

#[test]
fn replacement_rules() {
    let l0 = Raw::default()
        .dir_mode("d/", 0o700)
        .file("d/child", b"c")
        .dir("e/")
        .file("e/f", b"")
        .done();
    // dir over dir: attributes replaced, children kept; file over dir: subtree gone.
    let l1 = Raw::default()
        .dir_mode("d/", 0o755)
        .file("e", b"now a file")
        .done();
    let fs = view(&image(vec![l0, l1])).unwrap();
    assert_eq!(fs.get(&p("/d")).unwrap().mode, 0o755);
    assert!(fs.get(&p("/d/child")).is_some());
    assert_eq!(fs.get(&p("/e")).unwrap().kind, EntryKind::File);
    assert!(fs.get(&p("/e/f")).is_none());
    // Missing parents are implicit directories.
    let fs = view(&image(vec![Raw::default().file("x/y/z", b"").done()])).unwrap();
    assert!(fs.get(&p("/x/y")).unwrap().implicit);
}

#[test]
fn hard_links_share_content_across_layers() {
    let l0 = Raw::default().file("bin/busybox", b"BB").done();
    let l1 = Raw::default().hardlink("bin/sh", "bin/busybox").done();
    let img = image(vec![l0, l1]);
    let fs = view(&img).unwrap();
    assert_eq!(cat(&img, &fs, "/bin/sh"), "BB");
    assert_eq!(
        fs.get(&p("/bin/sh")).unwrap().hardlink,
        Some(p("/bin/busybox"))
    );
    let l = Raw::default().hardlink("x", "missing").done();
    assert!(matches!(
        view(&image(vec![l])).unwrap_err(),
        ExploreError::HardlinkTarget { .. }
    ));
    let l = Raw::default().hardlink("x", "../../etc/passwd").done();
    assert!(matches!(
        view(&image(vec![l])).unwrap_err(),
        ExploreError::BadName { .. }
    ));
}

#[test]
fn symlinks_resolve_inside_the_image_root() {
    let l = Raw::default()
        .dir("etc/")
        .file("etc/passwd", b"image passwd")
        .symlink("up", "../../../../etc")
        .symlink("a", "b")
        .symlink("b", "/up/")
        .symlink("loop1", "loop2")
        .symlink("loop2", "loop1")
        .done();
    let img = image(vec![l]);
    let fs = view(&img).unwrap();
    assert_eq!(cat(&img, &fs, "/up/passwd"), "image passwd");
    assert_eq!(cat(&img, &fs, "/a/passwd"), "image passwd");
    assert!(matches!(
        fs.lookup(&p("/loop1/x"), true).unwrap_err(),
        ExploreError::SymlinkLoop { .. }
    ));
    // A symlink planted earlier in the same layer redirects later entries inside the image.
    let l = Raw::default()
        .symlink("evil", "/../../../tmp/host")
        .file("evil/pwn", b"x")
        .done();
    let fs = view(&image(vec![l])).unwrap();
    assert!(fs.get(&p("/tmp/host/pwn")).is_some());
}

#[test]
fn a_symlink_named_dot_is_refused() {
    for name in [".", "./"] {
        let l = Raw::default().symlink(name, "/").done();
        let err = view(&image(vec![l])).unwrap_err();
        assert!(
            matches!(err, ExploreError::RootNotDirectory { .. }),
            "{err}"
        );
    }
}

#[test]
fn layer_view_shows_markers() {
    let l0 = Raw::default().dir("a/").file("a/x", b"").done();
    let l1 = Raw::default()
        .file("a/.wh.x", b"")
        .file("b/.wh..wh..opq", b"")
        .done();
    let img = image(vec![l0, l1]);
    let v = Filesystem::layer_view(&layers_of(&img).unwrap(), 1, ViewOptions::default()).unwrap();
    assert_eq!(
        v.get(&p("/a/.wh.x")).unwrap().marker,
        Some(MarkerKind::Whiteout)
    );
    assert_eq!(
        v.get(&p("/b/.wh..wh..opq")).unwrap().marker,
        Some(MarkerKind::Opaque)
    );
    assert!(v.get(&p("/a")).unwrap().implicit);
    assert!(matches!(
        Filesystem::layer_view(&layers_of(&img).unwrap(), 2, ViewOptions::default()),
        Err(ExploreError::NoSuchLayer { layer: 2, count: 2 })
    ));
}

// ---------- efficiency and diff ----------

#[test]
fn efficiency_counts_overwrites_deletions_and_duplicates() {
    let single = image(vec![
        Raw::default()
            .file("a", &[1; 100])
            .file("b", &[2; 50])
            .done(),
    ]);
    let e = efficiency(&view(&single).unwrap());
    assert_eq!((e.added_bytes, e.wasted_bytes, e.efficiency), (150, 0, 1.0));

    let l0 = Raw::default()
        .file("a", &[1; 100])
        .file("b", &[2; 50])
        .file("c", &[3; 10])
        .done();
    let l1 = Raw::default()
        .file("a", &[9; 20])
        .file(".wh.b", b"")
        .file("d", &[4; 5])
        .file("d", &[5; 7])
        .done();
    let e = efficiency(&view(&image(vec![l0, l1])).unwrap());
    assert_eq!(e.layers[0].wasted_bytes, 150);
    assert_eq!(e.layers[1].added_bytes, 32);
    assert_eq!(e.layers[1].wasted_bytes, 5);
    assert_eq!(e.visible_bytes, 10 + 20 + 7);
    assert!((e.efficiency - 37.0 / 192.0).abs() < 1e-9);
}

#[test]
fn diff_reports_added_removed_and_changed() {
    let a = image(vec![
        Raw::default()
            .file("same", b"s")
            .file("old", b"o")
            .file("mod", b"one")
            .file_mode("perm", b"p", 0o644)
            .done(),
    ]);
    let b = image(vec![
        Raw::default()
            .file("same", b"s")
            .file("new", b"n")
            .file("mod", b"two")
            .file_mode("perm", b"p", 0o755)
            .done(),
    ]);
    let hash = ViewOptions {
        hash: true,
        ..ViewOptions::default()
    };
    let d = diff_files(&view_with(&a, hash).unwrap(), &view_with(&b, hash).unwrap());
    let summary: Vec<String> = d
        .iter()
        .map(|x| match x {
            PathDiff::Added { path, .. } => format!("A {path}"),
            PathDiff::Removed { path, .. } => format!("D {path}"),
            PathDiff::Changed { path, changes } => format!("M {path} {}", changes.len()),
        })
        .collect();
    assert_eq!(summary, ["M /mod 1", "A /new", "D /old", "M /perm 1"]);
}

// ---------- extraction ----------

fn extract_all(
    img: &OwnedImage,
    dest: &Path,
    opts: ExtractOptions,
) -> Result<ExtractReport, ExploreError> {
    let fs = view(img)?;
    extract_dir(
        &layers_of(img).unwrap(),
        &fs,
        &ImagePath::root(),
        dest,
        &opts,
    )
}

fn nothing_outside(outside: &Path) {
    let left: Vec<_> = std::fs::read_dir(outside).unwrap().collect();
    assert!(
        left.is_empty(),
        "something was written outside DEST: {left:?}"
    );
}

#[test]
fn extraction_never_follows_planted_or_chained_symlinks_out_of_dest() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let o = outside.to_str().unwrap();
    let layer = Raw::default()
        .symlink("evil", o) // planted earlier in the same layer
        .file("evil/pwn", b"x")
        .symlink("c1", "c2")
        .symlink("c2", &format!("../../../../../../{o}")) // chained
        .file("c1/pwn2", b"y")
        .symlink("rel", "../../../..")
        .file("rel/pwn3", b"z")
        .done();
    let dest = t.path().join("dest");
    let img = image(vec![layer]);
    extract_all(&img, &dest, ExtractOptions::default()).unwrap();
    nothing_outside(&outside);
    assert!(
        dest.join("evil")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // The entries landed inside DEST, where the image says the links point.
    let inside = dest.join(o.trim_start_matches('/'));
    assert_eq!(std::fs::read(inside.join("pwn")).unwrap(), b"x");
    assert_eq!(std::fs::read(inside.join("pwn2")).unwrap(), b"y");
    assert_eq!(std::fs::read(dest.join("pwn3")).unwrap(), b"z");
}

#[test]
fn extraction_refuses_hardlink_escapes() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), "host secret").unwrap();
    let o = outside.to_str().unwrap();
    // A hard link through a symlinked parent names the image's path, which does not exist.
    let layer = Raw::default()
        .symlink("l", o)
        .hardlink("h", "l/secret")
        .done();
    assert!(matches!(
        view(&image(vec![layer])).unwrap_err(),
        ExploreError::HardlinkTarget { .. }
    ));
    let layer = Raw::default().hardlink("h", &format!("{o}/secret")).done();
    assert!(matches!(
        view(&image(vec![layer])).unwrap_err(),
        ExploreError::HardlinkTarget { .. }
    ));
    // A good hard link is made between the two copies inside DEST.
    let layer = Raw::default().file("a", b"A").hardlink("b", "a").done();
    let dest = t.path().join("dest");
    let r = extract_all(&image(vec![layer]), &dest, ExtractOptions::default()).unwrap();
    assert_eq!((r.files, r.hardlinks), (1, 1));
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(dest.join("a")).unwrap().ino(),
        std::fs::metadata(dest.join("b")).unwrap().ino()
    );
}

#[test]
fn a_layer_whose_tar_is_not_its_diff_id_is_refused() {
    // The blob digest matches its descriptor; only the config's diff_id is wrong, as in an
    // image whose config was edited (or whose layer was swapped with its descriptor).
    let img = image_with_wrong_diff_id(Raw::default().file("etc/passwd", b"p").done());
    let err = view(&img).unwrap_err();
    assert!(
        matches!(&err, ExploreError::Oci(OciError::DiffIdMismatch { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("diff_id"), "{err}");
}

#[test]
fn symlinks_already_in_dest_are_replaced_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let dest = t.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    std::os::unix::fs::symlink(&outside, dest.join("etc")).unwrap();
    std::os::unix::fs::symlink(outside.join("file"), dest.join("file")).unwrap();
    let img = image(vec![
        Raw::default()
            .dir("etc/")
            .file("etc/passwd", b"p")
            .file("file", b"f")
            .done(),
    ]);
    let err = extract_all(&img, &dest, ExtractOptions::default()).unwrap_err();
    assert!(
        matches!(err, ExploreError::DestinationNotEmpty { .. }),
        "{err}"
    );
    extract_all(
        &img,
        &dest,
        ExtractOptions {
            force: true,
            ..ExtractOptions::default()
        },
    )
    .unwrap();
    nothing_outside(&outside);
    assert!(dest.join("etc").symlink_metadata().unwrap().is_dir());
    assert_eq!(std::fs::read(dest.join("file")).unwrap(), b"f");
}

#[test]
fn force_refuses_a_full_directory_in_the_way_before_writing_anything() {
    let t = tempfile::tempdir().unwrap();
    let dest = t.path().join("dest");
    std::fs::create_dir_all(dest.join("ok/inner")).unwrap();
    std::fs::write(dest.join("ok/inner/keep"), b"mine").unwrap();
    std::fs::create_dir(dest.join("empty")).unwrap();
    let img = image(vec![
        Raw::default()
            .dir("a/")
            .file("a/x", b"x")
            .file("ok", b"file")
            .file("empty", b"was an empty dir")
            .done(),
    ]);
    let force = ExtractOptions {
        force: true,
        ..ExtractOptions::default()
    };
    let err = extract_all(&img, &dest, force).unwrap_err();
    assert!(
        matches!(&err, ExploreError::DirectoryInTheWay { path, .. } if path.ends_with("ok")),
        "{err}"
    );
    assert!(err.to_string().contains("/ok"), "{err}");
    // Nothing was written: no /a, the user's files and the empty directory are there.
    assert!(!dest.join("a").exists());
    assert_eq!(std::fs::read(dest.join("ok/inner/keep")).unwrap(), b"mine");
    assert!(dest.join("empty").is_dir());
    // With the tree gone, the same export goes through (the empty directory is replaced).
    std::fs::remove_dir_all(dest.join("ok")).unwrap();
    extract_all(&img, &dest, force).unwrap();
    assert_eq!(std::fs::read(dest.join("ok")).unwrap(), b"file");
    assert_eq!(
        std::fs::read(dest.join("empty")).unwrap(),
        b"was an empty dir"
    );
    assert_eq!(std::fs::read(dest.join("a/x")).unwrap(), b"x");
}

#[test]
fn special_files_need_root_and_setuid_needs_preserve_modes() {
    let layer = Raw::default()
        .entry("dev/null", b'3', "", b"", 0o666)
        .entry("fifo", b'6', "", b"", 0o644)
        .file_mode("suid", b"s", 0o4755)
        .dir_mode("sticky", 0o1777)
        .done();
    let img = image(vec![layer]);
    let t = tempfile::tempdir().unwrap();
    let r = extract_all(&img, &t.path().join("a"), ExtractOptions::default()).unwrap();
    let skipped: Vec<&str> = r.skipped.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(skipped, ["/dev/null", "/fifo"]);
    assert!(!t.path().join("a/fifo").exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&t.path().join("a/suid")), 0o755);
    assert_eq!(mode(&t.path().join("a/sticky")), 0o1777);
    let opts = ExtractOptions {
        preserve_modes: true,
        ..ExtractOptions::default()
    };
    extract_all(&img, &t.path().join("b"), opts).unwrap();
    assert_eq!(mode(&t.path().join("b/suid")), 0o4755);
    if running_as_root() {
        let opts = ExtractOptions {
            as_root: true,
            devices: true,
            ..ExtractOptions::default()
        };
        let r = extract_all(&img, &t.path().join("c"), opts).unwrap();
        assert!(r.skipped.is_empty());
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::symlink_metadata(t.path().join("c/fifo"))
                .unwrap()
                .file_type()
                .is_fifo()
        );
    }
}

#[test]
fn export_tar_is_the_flattened_view() {
    let l0 = Raw::default()
        .dir("etc/")
        .file("etc/a", b"A")
        .file("etc/b", b"B")
        .symlink("lnk", "etc/a")
        .done();
    let l1 = Raw::default()
        .file("etc/.wh.b", b"")
        .file("etc/c", b"C")
        .hardlink("etc/a2", "etc/a")
        .done();
    let img = image(vec![l0, l1]);
    let out = export_all(&img);
    let mut a = tar::Archive::new(&out[..]);
    let mut got = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let mut data = String::new();
        std::io::Read::read_to_string(&mut e, &mut data).unwrap();
        got.push(format!(
            "{} {:?} {data}",
            e.path().unwrap().display(),
            e.header().entry_type()
        ));
    }
    assert_eq!(
        got,
        [
            "etc/ Directory ",
            "lnk Symlink ",
            "etc/a Regular A",
            "etc/a2 Link ",
            "etc/c Regular C"
        ]
    );
}

// ---------- extended attributes and file capabilities ----------

/// A layer of regular files (name, content, PAX records before it) and hard links
/// (name, `=>target`, records), written with the `tar` crate as docker writes them.
type PaxEntry<'a> = (&'a str, &'a str, &'a [(&'a str, &'a [u8])]);

fn pax_layer(entries: &[PaxEntry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, records) in entries {
        b.append_pax_extensions(records.iter().copied()).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o755);
        if let Some(target) = data.strip_prefix("=>") {
            h.set_entry_type(tar::EntryType::Link);
            h.set_size(0);
            b.append_link(&mut h, name, target).unwrap();
        } else {
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append_data(&mut h, name, data.as_bytes()).unwrap();
        }
    }
    b.into_inner().unwrap()
}

fn caps_of(fs: &Filesystem, path: &str) -> Option<String> {
    fs.get(&p(path))
        .unwrap()
        .capabilities()
        .map(|c| xattr::describe_caps(&c))
}

const CAP: &str = "SCHILY.xattr.security.capability";

#[test]
fn pax_xattrs_reach_the_node_and_hard_links_share_them() {
    let raw = FileCaps::of(&["cap_net_raw"], false).encode();
    let setuid = FileCaps::of(&["cap_setuid"], false).encode();
    let l0 = pax_layer(&[
        (
            "bin/ping",
            "P",
            &[
                (CAP, &raw),
                ("SCHILY.xattr.user.note", b"a\0b\nc"),
                // bsdtar's copy of an attribute: runtimes never apply it.
                ("LIBARCHIVE.xattr.user.other", b"dmFsdWU="),
            ],
        ),
        ("bin/plain", "x", &[]),
        ("bin/ping2", "=>bin/ping", &[]),
        ("bin/ping3", "=>bin/ping", &[(CAP, &setuid)]),
        ("bin/later", "x", &[(CAP, &setuid)]),
    ]);
    // A later layer writes /bin/later again, without attributes: they go with it.
    let l1 = pax_layer(&[("bin/later", "y", &[])]);
    let fs = view(&image(vec![l0, l1])).unwrap();
    let ping = fs.get(&p("/bin/ping")).unwrap();
    let x = ping.xattrs.as_deref().unwrap();
    assert_eq!(
        x.names().collect::<Vec<_>>(),
        ["security.capability", "user.note"]
    );
    assert_eq!(x.get("user.note"), Some(&b"a\0b\nc"[..]));
    assert_eq!(caps_of(&fs, "/bin/ping").as_deref(), Some("cap_net_raw+ep"));
    assert!(fs.get(&p("/bin/plain")).unwrap().xattrs.is_none());
    assert_eq!(
        caps_of(&fs, "/bin/ping2").as_deref(),
        Some("cap_net_raw+ep")
    );
    // The link entry's own attribute wins, the others are the file's.
    assert_eq!(caps_of(&fs, "/bin/ping3").as_deref(), Some("cap_setuid+ep"));
    assert!(
        fs.get(&p("/bin/ping3"))
            .unwrap()
            .xattrs
            .as_ref()
            .unwrap()
            .get("user.note")
            .is_some()
    );
    assert!(fs.get(&p("/bin/later")).unwrap().xattrs.is_none());
}

#[test]
fn hostile_xattr_records_are_refused_or_reported_malformed() {
    let long = format!("SCHILY.xattr.user.{}", "n".repeat(251));
    let big = vec![7u8; 64 * 1024 + 1];
    for records in [
        vec![("SCHILY.xattr.", &b"v"[..])],
        vec![(long.as_str(), &b"v"[..])],
        vec![("SCHILY.xattr.user.big", &big[..])],
    ] {
        let l = pax_layer(&[("f", "x", &records)]);
        let err = view(&image(vec![l])).unwrap_err();
        assert!(
            matches!(err, ExploreError::BadHeader { .. }),
            "{records:?}: {err}"
        );
    }
    // Many attributes within the record limit still meet the layer's budget.
    let value = vec![1u8; 4000];
    let many: Vec<(&str, &[u8])> = vec![("SCHILY.xattr.user.v", &value[..])];
    let entries: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
    let layer: Vec<PaxEntry> = entries
        .iter()
        .map(|n| (n.as_str(), "x", &many[..]))
        .collect();
    let err = view_with(
        &image(vec![pax_layer(&layer)]),
        ViewOptions {
            limits: Limits {
                max_xattr_bytes: 20_000,
                ..Limits::default()
            },
            hash: false,
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ExploreError::Limit {
                what: "bytes of extended attributes in the layer",
                limit: 20_000,
                ..
            }
        ),
        "{err}"
    );
    // A blob the kernel would refuse is kept and shown as malformed.
    let l = pax_layer(&[("f", "x", &[(CAP, &[1, 0, 0, 2, 0])])]);
    let fs = view(&image(vec![l])).unwrap();
    assert_eq!(
        caps_of(&fs, "/f").as_deref(),
        Some("malformed security.capability (revision 2 is 20 bytes, this one is 5)")
    );
}

#[test]
fn diff_sees_a_capability_on_an_otherwise_identical_file() {
    let caps = FileCaps::of(&["cap_setuid"], false).encode();
    let a = image(vec![pax_layer(&[
        ("bin/tool", "T", &[]),
        ("bin/x", "X", &[("SCHILY.xattr.user.k", b"1")]),
    ])]);
    let b = image(vec![pax_layer(&[
        ("bin/tool", "T", &[(CAP, &caps)]),
        ("bin/x", "X", &[("SCHILY.xattr.user.k", b"2")]),
    ])]);
    let hash = ViewOptions {
        hash: true,
        ..ViewOptions::default()
    };
    let d = diff_files(&view_with(&a, hash).unwrap(), &view_with(&b, hash).unwrap());
    assert_eq!(
        d,
        [
            PathDiff::Changed {
                path: "/bin/tool".into(),
                changes: vec![Change::Capabilities {
                    old: "none".into(),
                    new: "cap_setuid+ep".into()
                }],
            },
            PathDiff::Changed {
                path: "/bin/x".into(),
                changes: vec![Change::Xattrs {
                    old: "user.k=0x31".into(),
                    new: "user.k=0x32".into()
                }],
            },
        ]
    );
}

#[test]
fn export_tar_writes_xattrs_back_as_pax_records() {
    let caps = FileCaps {
        rootid: Some(1000),
        ..FileCaps::of(&["cap_net_bind_service"], false)
    }
    .encode();
    let l0 = pax_layer(&[
        (
            "bin/srv",
            "S",
            &[(CAP, &caps), ("SCHILY.xattr.user.k", b"\0v")],
        ),
        ("bin/srv2", "=>bin/srv", &[]),
        ("bin/plain", "p", &[]),
    ]);
    let img = image(vec![l0]);
    let fs = view(&img).unwrap();
    let out = export_all(&img);
    // Read back by husk's own reader and by the tar crate.
    let again = view(&image(vec![out.clone()])).unwrap();
    for path in ["/bin/srv", "/bin/srv2", "/bin/plain"] {
        assert_eq!(
            again.get(&p(path)).unwrap().xattrs,
            fs.get(&p(path)).unwrap().xattrs,
            "{path}"
        );
    }
    assert_eq!(
        caps_of(&again, "/bin/srv").as_deref(),
        Some("cap_net_bind_service+ep [rootid=1000]")
    );
    let mut a = tar::Archive::new(&out[..]);
    let mut seen = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        if let Some(ext) = e.pax_extensions().unwrap() {
            for r in ext {
                let r = r.unwrap();
                seen.push(format!("{name} {}", r.key().unwrap()));
            }
        }
    }
    assert_eq!(
        seen,
        [
            "bin/srv SCHILY.xattr.security.capability",
            "bin/srv SCHILY.xattr.user.k",
            "bin/srv2 SCHILY.xattr.security.capability",
            "bin/srv2 SCHILY.xattr.user.k",
        ]
    );
}
