//! The session's effects on in-memory layers: layers read only when selected, copies
//! through the safe extraction, layer export.

use super::*;
use crate::testing::{TarLayer, image, summary};

fn opts(eager: bool) -> Options {
    Options {
        title: "oci:test".into(),
        color: false,
        eager,
        limits: Limits::default(),
    }
}

fn session(layers: &[TarLayer], eager: bool) -> Session<'_, TarLayer> {
    let mut s = Session::new(layers, summary(layers), &opts(eager));
    s.start(&mut |_| {});
    s
}

fn press(s: &mut Session<'_, TarLayer>, keys: &[Key]) {
    for &k in keys {
        assert!(!s.key(k, &mut |_| {}), "{k:?} quit");
    }
}

fn type_line(s: &mut Session<'_, TarLayer>, line: &str) {
    // Clear the prefilled destination, type ours, confirm.
    press(s, &[Key::Backspace; 64]);
    for c in line.chars() {
        press(s, &[Key::Char(c)]);
    }
    press(s, &[Key::Enter]);
}

#[test]
fn a_lazy_session_reads_only_the_layers_selected() {
    let layers = image();
    let mut s = session(&layers, false);
    let opens = || layers.iter().map(TarLayer::opens).collect::<Vec<_>>();
    assert_eq!(opens(), [1, 0, 0]);
    press(&mut s, &[Key::Down]);
    assert_eq!(opens(), [1, 1, 0]);
    press(&mut s, &[Key::Up, Key::Down]);
    assert_eq!(opens(), [1, 1, 0], "a layer is read once");
    let mut frames = 0;
    assert!(!s.key(Key::End, &mut |b| {
        frames += 1;
        assert!(b.loading.is_some(), "progress is drawn before a read");
    }));
    assert_eq!(frames, 1);
    assert_eq!(opens(), [1, 1, 1]);
    assert!(s.browser().efficiency.is_some());

    let layers = image();
    let _ = session(&layers, true);
    assert_eq!(
        layers.iter().map(TarLayer::opens).collect::<Vec<_>>(),
        [1, 1, 1]
    );
}

/// The size the selected layer's view gives `path`.
fn size_of(b: &Browser, path: &str) -> Option<u64> {
    let path = husk_layer::ImagePath::parse(path).unwrap();
    b.view().and_then(|v| v.get(&path)).map(|n| n.size)
}

#[test]
fn a_tree_sharing_the_merged_view_is_rebuilt_once_a_layer_above_is_read() {
    let layers = image();
    let mut s = session(&layers, false);
    // Layer 0 is the top layer read: its tree is the merged view, shared.
    assert_eq!(size_of(s.browser(), "/etc/motd"), Some(6));
    press(&mut s, &[Key::Down]);
    assert_eq!(size_of(s.browser(), "/etc/motd"), Some(13));
    // Back to layer 0, now below the top: built forward, layer 1's write is not in it.
    press(&mut s, &[Key::Up]);
    assert_eq!(size_of(s.browser(), "/etc/motd"), Some(6));
    assert_eq!(size_of(s.browser(), "/etc/new"), None);
    let b = s.browser();
    let motd = b
        .rows
        .iter()
        .find(|&&i| b.tree.as_ref().unwrap().entries[i].path.as_str() == "/etc/motd");
    assert_eq!(motd.and_then(|&i| b.node(i)).map(|n| n.size), Some(6));
    // Layer 1 shows, sharing the merged view, when layer 2 is read under it (not
    // through a key, which drops the tree first): the tree is rebuilt, not stale.
    press(&mut s, &[Key::Down]);
    assert_eq!(size_of(s.browser(), "/usr/share/perl/a.pm"), Some(100));
    s.browser.history_mut().read_through(&layers, 2).unwrap();
    s.browser.refresh();
    assert_eq!(s.browser().layer(), 1);
    assert_eq!(size_of(s.browser(), "/usr/share/perl/a.pm"), Some(100));
    press(&mut s, &[Key::End]);
    assert_eq!(size_of(s.browser(), "/usr/share/perl/a.pm"), None);
}

#[test]
fn copy_writes_the_selected_path_as_of_the_layer_and_nothing_outside_dest() {
    let layers = image();
    let mut s = session(&layers, true);
    let t = tempfile::tempdir().unwrap();
    let dest = |n: &str| t.path().join(n).display().to_string();
    // Layer 0's /etc/motd, then layer 1's.
    press(&mut s, &[Key::Tab, Key::Down, Key::Down, Key::Char('c')]);
    type_line(&mut s, &dest("motd0"));
    assert!(
        s.browser().status.starts_with("copied /etc/motd"),
        "{}",
        s.browser().status
    );
    assert_eq!(std::fs::read(t.path().join("motd0")).unwrap(), b"hello\n");
    press(&mut s, &[Key::Tab, Key::Down, Key::Tab, Key::Char('c')]);
    type_line(&mut s, &dest("motd1"));
    assert_eq!(
        std::fs::read(t.path().join("motd1")).unwrap(),
        b"changed motd\n"
    );
    // Again to the same place: refused, the file kept.
    press(&mut s, &[Key::Char('c')]);
    type_line(&mut s, &dest("motd1"));
    assert!(
        s.browser().status.contains("cannot copy"),
        "{}",
        s.browser().status
    );
    // A directory: its contents into a new directory.
    press(&mut s, &[Key::End]);
    while s.browser().selected_path().unwrap().as_str() != "/usr" {
        press(&mut s, &[Key::Up]);
    }
    press(&mut s, &[Key::Char('c')]);
    type_line(&mut s, &dest("usr"));
    assert_eq!(std::fs::read(t.path().join("usr/bin/sh")).unwrap(), b"#!");
    assert_eq!(
        std::fs::read(t.path().join("usr/share/perl/a.pm"))
            .unwrap()
            .len(),
        100
    );
    let mut all: Vec<String> = walk(t.path());
    all.sort();
    assert_eq!(
        all,
        [
            "motd0",
            "motd1",
            "usr",
            "usr/bin",
            "usr/bin/sh",
            "usr/share",
            "usr/share/perl",
            "usr/share/perl/a.pm",
            "usr/share/perl/b.pm"
        ]
    );
}

fn walk(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() && !p.is_symlink() {
                todo.push(p);
            }
        }
    }
    out
}

#[test]
fn export_writes_the_layer_tar_once() {
    let layers = image();
    let mut s = session(&layers, true);
    let t = tempfile::tempdir().unwrap();
    let dest = t.path().join("l1.tar").display().to_string();
    press(&mut s, &[Key::Down, Key::Char('x')]);
    type_line(&mut s, &dest);
    assert!(
        s.browser().status.starts_with("wrote layer 1"),
        "{}",
        s.browser().status
    );
    assert_eq!(std::fs::read(&dest).unwrap(), layers[1].tar);
    press(&mut s, &[Key::Char('x')]);
    type_line(&mut s, &dest);
    assert!(
        s.browser().status.contains("already exists"),
        "{}",
        s.browser().status
    );
    let missing = t.path().join("no/such/dir/x.tar").display().to_string();
    press(&mut s, &[Key::Char('x')]);
    type_line(&mut s, &missing);
    assert!(
        s.browser().status.contains("cannot write"),
        "{}",
        s.browser().status
    );
    assert_eq!(walk(t.path()), ["l1.tar"]);
}

#[test]
fn a_broken_layer_is_a_message_not_an_exit() {
    let mut layers = image();
    layers[1].tar.truncate(700);
    let mut s = session(&layers, false);
    press(&mut s, &[Key::Down]);
    assert!(
        s.browser().status.contains("layer 1"),
        "{}",
        s.browser().status
    );
    assert!(s.browser().tree.is_none());
    press(&mut s, &[Key::Up]);
    assert!(s.browser().tree.is_some(), "layer 0 still browses");
}
