//! History and per-layer changes on small tar layers built here.

use super::*;
use crate::efficiency::efficiency;
use crate::testing::{Entry as E, TarLayer, layer};

fn p(s: &str) -> ImagePath {
    ImagePath::parse(s).unwrap()
}

/// The podman-like image of the issue: a base, a layer that overwrites a file and one that
/// deletes a directory.
fn image() -> Vec<TarLayer> {
    vec![
        layer(&[
            E::Dir("etc", 0o755),
            E::Sized("etc/motd", 10),
            E::Dir("usr/share/perl", 0o755),
            E::Sized("usr/share/perl/a.pm", 100),
            E::Sized("usr/share/perl/b.pm", 50),
            E::Link("bin", "usr/bin"),
        ]),
        layer(&[
            E::Dir("etc", 0o755),
            E::Sized("etc/motd", 20),
            E::Sized("etc/new", 5),
        ]),
        layer(&[E::Sized("usr/share/.wh.perl", 0), E::Dir("etc", 0o700)]),
    ]
}

fn kinds(c: &LayerChanges) -> Vec<(String, ChangeKind)> {
    c.paths
        .iter()
        .map(|c| (c.path.to_string(), c.kind))
        .collect()
}

#[test]
fn each_layer_records_what_it_added_modified_and_removed() {
    let layers = image();
    let h = History::read_all(&layers, ViewOptions::default()).unwrap();
    assert!(h.is_complete());
    let ch = h.changes();
    assert_eq!(ch.len(), 3);
    // Layer 0 adds everything, implicit parents included.
    assert!(ch[0].paths.iter().all(|c| c.kind == ChangeKind::Added));
    assert_eq!(ch[0].tally(ChangeKind::Added), (8, 160));
    use ChangeKind::*;
    assert_eq!(
        kinds(&ch[1]),
        [
            ("/etc".into(), Unchanged),
            ("/etc/motd".into(), Modified),
            ("/etc/new".into(), Added),
        ]
    );
    assert_eq!(ch[1].tally(Modified), (1, 20));
    let motd = &ch[1].paths[1];
    assert_eq!(motd.before.as_ref().unwrap().size, 10);
    assert_eq!(motd.size, 20);
    assert_eq!(motd.noun, "file");
    assert_eq!(
        kinds(&ch[2]),
        [
            ("/etc".into(), Modified),
            ("/usr/share/perl".into(), Removed),
            ("/usr/share/perl/a.pm".into(), Removed),
            ("/usr/share/perl/b.pm".into(), Removed),
        ]
    );
    assert_eq!(ch[2].tally(Removed), (3, 150));
}

#[test]
fn the_tree_as_of_a_layer_undoes_the_layers_above_it() {
    let layers = image();
    let h = History::read_all(&layers, ViewOptions::default()).unwrap();
    let full = Filesystem::build(&layers, ViewOptions::default()).unwrap();
    // The merged history is exactly the one-pass view.
    let walk = |fs: &Filesystem| {
        fs.walk(&ImagePath::root())
            .map(|(p, n)| (p.to_string(), n.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(walk(h.merged()), walk(&full));
    for k in 0..3 {
        let want = Filesystem::build(&layers[..=k], ViewOptions::default()).unwrap();
        let got = h.as_of(k).unwrap();
        assert_eq!(walk(&got), walk(&want), "as of layer {k}");
        assert_eq!(got.layer_stats(), want.layer_stats());
        assert_eq!(got.len(), want.len());
    }
    assert!(h.as_of(3).is_none());
}

/// Every kind of change a layer can make: whiteouts of a file and of a tree, an opaque
/// directory, a file overwritten, a file replaced by a directory and back, a path removed
/// and added again by one layer, a symlinked parent followed, hard links, a re-listed
/// directory with new attributes, and an identical layer listed twice.
fn busy_image() -> Vec<TarLayer> {
    vec![
        layer(&[
            E::Dir("etc", 0o755),
            E::Sized("etc/motd", 10),
            E::Sized("etc/keep", 1),
            E::Dir("opt/app/lib", 0o755),
            E::Sized("opt/app/lib/a.so", 30),
            E::Sized("opt/app/bin", 40),
            E::Hard("opt/app/bin2", "opt/app/bin"),
            E::Dir("usr/share/perl", 0o755),
            E::Sized("usr/share/perl/a.pm", 100),
            E::Link("lib", "usr/lib"),
            E::Sized("x", 3),
        ]),
        layer(&[
            E::Sized("etc/motd", 20),
            E::Sized("lib/libc.so", 7),
            E::Sized("opt/app/.wh..wh..opq", 0),
            E::Sized("opt/app/new", 5),
            E::Dir("x", 0o700),
            E::Sized("x/inside", 2),
        ]),
        layer(&[
            E::Sized("usr/share/.wh.perl", 0),
            E::Sized(".wh.x", 0),
            E::Sized("x", 9),
            E::Dir("etc", 0o700),
            E::Sized("etc/.wh.keep", 0),
            E::Hard("etc/motd2", "etc/motd"),
        ]),
        layer(&[E::Sized("etc/motd", 20)]),
        layer(&[
            E::Dir("usr/share/perl", 0o750),
            E::Sized("usr/share/perl/b.pm", 1),
            E::Sized("etc/.wh..wh..opq", 0),
        ]),
        layer(&[E::Sized("etc/motd", 20)]),
    ]
}

#[test]
fn the_tree_as_of_each_layer_equals_merging_the_layers_up_to_it() {
    let layers = busy_image();
    let walk = |fs: &Filesystem| {
        fs.walk(&ImagePath::root())
            .map(|(p, n)| (p.to_string(), n.clone()))
            .collect::<Vec<_>>()
    };
    let h = History::read_all(&layers, ViewOptions::default()).unwrap();
    for k in 0..layers.len() {
        let want = Filesystem::build(&layers[..=k], ViewOptions::default()).unwrap();
        let got = h.as_of(k).unwrap();
        assert_eq!(walk(&got), walk(&want), "as of layer {k}");
        assert_eq!(got.layer_stats(), want.layer_stats(), "layer {k}");
        assert_eq!(got.len(), want.len());
        // The budget counts the same paths: one more layer's worth fits the same way.
        assert_eq!(
            got.resolve(&p("/lib/libc.so"), true).ok(),
            want.resolve(&p("/lib/libc.so"), true).ok()
        );
    }
    // The top layer's tree is the merged view itself, not a copy.
    assert!(matches!(h.as_of(layers.len() - 1), Some(Cow::Borrowed(_))));
    // Read lazily, each layer's tree is the same as read all at once.
    let mut lazy = History::new(&layers, ViewOptions::default());
    for k in 0..layers.len() {
        lazy.read_through(&layers, k).unwrap();
        for j in 0..=k {
            assert_eq!(
                walk(&lazy.as_of(j).unwrap()),
                walk(&h.as_of(j).unwrap()),
                "{j} of {k}"
            );
        }
    }
}

#[test]
fn a_layer_that_fails_half_way_is_undone() {
    // The hard link's target does not exist: the layer fails after its first entries
    // landed, and the view goes back to the layers below it.
    let layers = [
        layer(&[E::Sized("a", 1), E::Dir("d", 0o755)]),
        layer(&[
            E::Sized("a", 2),
            E::Sized("d/.wh..wh..opq", 0),
            E::Sized("b", 1),
            E::Hard("c", "nowhere"),
        ]),
    ];
    let mut h = History::new(&layers, ViewOptions::default());
    h.read_through(&layers, 0).unwrap();
    let before: Vec<_> = h
        .merged()
        .walk(&ImagePath::root())
        .map(|(p, n)| (p.clone(), n.clone()))
        .collect();
    assert!(h.read_through(&layers, 1).is_err());
    let after: Vec<_> = h
        .merged()
        .walk(&ImagePath::root())
        .map(|(p, n)| (p.clone(), n.clone()))
        .collect();
    assert_eq!(after, before);
    assert_eq!(h.loaded(), 1);
    assert_eq!(h.merged().layer_stats().len(), 1);
}

#[test]
fn layers_are_read_only_when_asked_for() {
    let layers = image();
    let mut h = History::new(&layers, ViewOptions::default());
    assert_eq!((h.loaded(), h.total()), (0, 3));
    assert!(h.as_of(0).is_none());
    h.read_through(&layers, 0).unwrap();
    assert_eq!(h.loaded(), 1);
    assert!(h.merged().get(&p("/usr/share/perl/a.pm")).is_some());
    h.read_through(&layers, 0).unwrap();
    assert_eq!(h.loaded(), 1, "reading again is a no-op");
    h.read_through(&layers, 2).unwrap();
    assert!(h.is_complete());
    let err = h.read_through(&layers, 3).unwrap_err();
    assert!(matches!(err, ExploreError::NoSuchLayer { layer: 3, .. }));
    // A list that is not the one the history was made for is refused, not misread.
    let err = h.read_through(&layers[..2], 1).unwrap_err();
    assert!(matches!(err, ExploreError::NoSuchLayer { .. }), "{err:?}");
}

#[test]
fn wasted_files_add_up_to_the_wasted_bytes_of_efficiency() {
    let layers = image();
    let h = History::read_all(&layers, ViewOptions::default()).unwrap();
    let wasted = h.wasted_files();
    let names: Vec<(&str, u64)> = wasted
        .iter()
        .map(|w| (w.path.as_str(), w.wasted_bytes))
        .collect();
    assert_eq!(
        names,
        [
            ("/usr/share/perl/a.pm", 100),
            ("/usr/share/perl/b.pm", 50),
            ("/etc/motd", 10)
        ]
    );
    let total: u64 = wasted.iter().map(|w| w.wasted_bytes).sum();
    assert_eq!(total, efficiency(h.merged()).wasted_bytes);
}

#[test]
fn a_layer_listed_twice_and_a_broken_layer() {
    let a = layer(&[E::Sized("f", 3)]);
    let b = layer(&[E::Sized("f", 4)]);
    let a2 = layer(&[E::Sized("f", 3)]);
    let layers = [a, b, a2];
    let h = History::read_all(&layers, ViewOptions::default()).unwrap();
    assert_eq!(
        kinds(&h.changes()[2]),
        [("/f".into(), ChangeKind::Modified)]
    );
    assert_eq!(efficiency(h.merged()).wasted_bytes, 7);

    let mut bad = layer(&[E::Sized("g", 3)]);
    bad.tar.truncate(100);
    let layers = [layer(&[E::Sized("f", 3)]), bad];
    let mut h = History::new(&layers, ViewOptions::default());
    assert!(h.read_through(&layers, 1).is_err());
    assert_eq!(h.loaded(), 1, "the layer below the broken one stays read");
    assert!(h.changes()[0].paths.iter().any(|c| c.path == p("/f")));
}
