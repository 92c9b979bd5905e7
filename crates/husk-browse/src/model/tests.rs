//! Keys in, state and frames out: the browser on in-memory layers, drawn on ratatui's
//! TestBackend.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::*;
use crate::testing::{E, browser, image, layer};

/// The screen as text, one line per row.
fn screen(b: &Browser, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    crate::session::draw_on(&mut t, b).unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The tree pane's part of the first line that lists `name` (the tree pane starts at
/// column 32 of an 80-column screen).
fn row(s: &str, name: &str) -> Option<String> {
    s.lines()
        .map(|l| l.chars().skip(32).collect::<String>())
        .find(|tree| {
            tree.trim_end_matches([' ', '│'])
                .split_whitespace()
                .any(|w| w == name)
        })
}

/// The screen without its status line (which names the path under the cursor).
fn body(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[..lines.len() - 1].join("\n")
}

fn keys(b: &mut Browser, keys: &[Key]) -> Vec<Effect> {
    keys.iter().map(|&k| b.handle(k)).collect()
}

#[test]
fn the_first_screen_shows_layers_details_marks_and_wasted_bytes() {
    let layers = image();
    let b = browser(&layers, true);
    let s = screen(&b, 80, 24);
    for want in [
        "RUN step 0",
        "RUN step 2",
        "user 65532",
        "8443/tcp",
        "Top wasted files",
    ] {
        assert!(s.contains(want), "{want} missing:\n{s}");
    }
    // 100 + 50 bytes of perl and the first motd (6 bytes): 156 B, as efficiency says.
    let eff = efficiency(b.history.merged());
    assert_eq!(eff.wasted_bytes, 156);
    assert!(s.contains("wasted 156 B"), "{s}");
    assert!(s.contains("100 B  1x /usr/share/perl/"), "{s}");
    // Layer 0 is selected: everything in it is added.
    assert!(row(&s, "motd").unwrap().contains("+ -rw-r--r--"), "{s}");
    assert!(
        row(&s, "bin")
            .unwrap()
            .contains("lrwxrwxrwx       0 B   bin -> usr/bin"),
        "{s}"
    );
}

#[test]
fn selecting_a_layer_shows_its_changes_with_symbols_and_colours() {
    let layers = image();
    let mut b = browser(&layers, true);
    assert_eq!(keys(&mut b, &[Key::Down]), [Effect::None]);
    let s = screen(&b, 80, 24);
    assert!(row(&s, "motd").unwrap().contains("~ -rw-r--r--"), "{s}");
    assert!(row(&s, "new").unwrap().contains("+ "), "{s}");
    assert!(row(&s, "a.pm").unwrap().contains("  -rw-r--r--"), "{s}");
    b.handle(Key::Down);
    let s = screen(&b, 80, 24);
    let removed = row(&s, "a.pm").expect("a removed file is listed");
    assert!(removed.contains("- -rw-r--r--"), "{s}");
    assert!(row(&s, "perl").unwrap().contains("- drwxr-xr-x"), "{s}");
    // The removed row is red; the same row under NO_COLOR keeps its symbol, no colour.
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    crate::session::draw_on(&mut t, &b).unwrap();
    let y = s
        .lines()
        .position(|l| l.contains("a.pm") && l.contains("- -rw"))
        .unwrap();
    let x = s.lines().nth(y).unwrap().find("- -rw").unwrap();
    let x = s.lines().nth(y).unwrap()[..x].chars().count() as u16;
    assert_eq!(t.backend().buffer()[(x, y as u16)].fg, Color::Red);
    let mut plain = browser(&layers, false);
    keys(&mut plain, &[Key::Down, Key::Down]);
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    crate::session::draw_on(&mut t, &plain).unwrap();
    let buf = t.backend().buffer();
    assert!(
        buf.content().iter().all(|c| c.fg == Color::Reset),
        "NO_COLOR"
    );
    assert_eq!(screen(&plain, 80, 24), s, "same text either way");
}

#[test]
fn filters_search_and_the_layer_only_view_change_the_tree() {
    let layers = image();
    let mut b = browser(&layers, false);
    b.handle(Key::Down);
    b.handle(Key::Tab);
    assert_eq!(b.focus, Pane::Tree);
    let all = screen(&b, 80, 24);
    assert!(row(&all, "sh").is_some());
    // Hide unchanged: only the layer's changes and the directories above them.
    b.handle(Key::Ctrl('u'));
    let s = screen(&b, 80, 24);
    assert!(row(&s, "sh").is_none(), "{s}");
    assert!(row(&s, "motd").is_some() && row(&s, "new").is_some(), "{s}");
    assert!(s.contains("[+~-.]"), "{s}");
    // Hide added too: the modified motd stays.
    b.handle(Key::Ctrl('a'));
    let s = screen(&b, 80, 24);
    assert!(row(&s, "new").is_none() && row(&s, "motd").is_some(), "{s}");
    // Ctrl+M arrives as Enter: modified hidden, nothing left.
    b.handle(Key::Enter);
    assert!(screen(&b, 80, 24).contains("nothing matches"));
    keys(&mut b, &[Key::Ctrl('a'), Key::Enter, Key::Ctrl('u')]);
    assert_eq!(
        body(&screen(&b, 80, 24)),
        body(&all),
        "every filter back on"
    );
    // The layer's own entries only.
    b.handle(Key::Ctrl('l'));
    let s = screen(&b, 80, 24);
    assert!(s.contains("Layer 1 entries"), "{s}");
    assert!(row(&s, "sh").is_none() && row(&s, "a.pm").is_none(), "{s}");
    b.handle(Key::Ctrl('l'));
    // Search as you type; Esc clears it.
    keys(&mut b, &[Key::Char('/'), Key::Char('P'), Key::Char('M')]);
    let s = screen(&b, 80, 24);
    assert!(
        row(&s, "a.pm").is_some() && row(&s, "motd").is_none(),
        "{s}"
    );
    assert!(s.contains("/PM"), "{s}");
    b.handle(Key::Enter);
    assert_eq!(b.input, None);
    assert_eq!(b.search, "PM", "Enter keeps the search");
    b.handle(Key::Esc);
    assert_eq!(body(&screen(&b, 80, 24)), body(&all));
}

#[test]
fn collapse_expand_and_cursor_moves() {
    let layers = image();
    let mut b = browser(&layers, false);
    b.handle(Key::Tab);
    let rows = b.rows.len();
    // The cursor is on /bin (a symlink, not foldable); go to /etc and fold it.
    b.handle(Key::Down);
    assert_eq!(b.selected_path().unwrap().as_str(), "/etc");
    b.handle(Key::Char(' '));
    assert_eq!(b.rows.len(), rows - 1);
    assert!(screen(&b, 80, 24).contains("▸ etc"));
    b.handle(Key::Char(' '));
    assert_eq!(b.rows.len(), rows);
    // Left on a file folds the directory it is in and puts the cursor on it.
    keys(&mut b, &[Key::Down, Key::Left]);
    assert_eq!(b.selected_path().unwrap().as_str(), "/etc");
    assert_eq!(b.rows.len(), rows - 1);
    b.handle(Key::Right);
    assert_eq!(b.rows.len(), rows);
    keys(&mut b, &[Key::End]);
    assert_eq!(b.cursor, rows - 1);
    keys(&mut b, &[Key::Down, Key::PageDown]);
    assert_eq!(b.cursor, rows - 1, "never past the end");
    keys(&mut b, &[Key::Home, Key::Up, Key::PageUp]);
    assert_eq!(b.cursor, 0);
    // The collapsed set survives a change of layer.
    keys(&mut b, &[Key::Down, Key::Char(' '), Key::Tab, Key::Down]);
    assert!(screen(&b, 80, 24).contains("▸ etc"));
}

#[test]
fn help_quit_and_ctrl_c() {
    let layers = image();
    let mut b = browser(&layers, false);
    b.handle(Key::Char('?'));
    let s = screen(&b, 80, 24);
    assert!(
        s.contains("Keys (any key closes)") && s.contains("Ctrl+R"),
        "{s}"
    );
    assert_eq!(b.handle(Key::Char('j')), Effect::None);
    assert!(!screen(&b, 80, 24).contains("Keys (any key closes)"));
    assert_eq!(b.layer, 0, "the key that closes help does nothing else");
    assert_eq!(b.handle(Key::Char('q')), Effect::Quit);
    // Ctrl+C quits from anywhere, a prompt included.
    b.handle(Key::Char('/'));
    assert_eq!(
        b.handle(Key::Char('q')),
        Effect::None,
        "q is typed in a prompt"
    );
    assert_eq!(b.handle(Key::Ctrl('c')), Effect::Quit);
}

#[test]
fn copy_and_export_prompts_become_effects() {
    let layers = image();
    let mut b = browser(&layers, false);
    keys(&mut b, &[Key::Tab, Key::Down, Key::Down]);
    assert_eq!(b.selected_path().unwrap().as_str(), "/etc/motd");
    b.handle(Key::Char('c'));
    assert!(screen(&b, 80, 24).contains("copy /etc/motd to: ./motd"));
    keys(&mut b, &[Key::Backspace, Key::Backspace, Key::Char('x')]);
    assert_eq!(
        b.handle(Key::Enter),
        Effect::Copy {
            path: ImagePath::parse("/etc/motd").unwrap(),
            dest: "./mox".into()
        }
    );
    b.handle(Key::Char('x'));
    assert!(screen(&b, 80, 24).contains("export layer 0 to: ./layer-0.tar"));
    assert_eq!(
        b.handle(Key::Enter),
        Effect::Export {
            layer: 0,
            dest: "./layer-0.tar".into()
        }
    );
    b.handle(Key::Char('x'));
    assert_eq!(b.handle(Key::Esc), Effect::None, "Esc cancels");
    assert_eq!(b.input, None);
    // A removed path has nothing to copy.
    keys(&mut b, &[Key::Tab, Key::End, Key::Tab, Key::End]);
    assert_eq!(b.selected_path().unwrap().as_str(), "/usr/share/perl/b.pm");
    b.handle(Key::Char('c'));
    assert_eq!(b.input, None);
    assert!(screen(&b, 80, 24).contains("removed that path"));
}

#[test]
fn layers_not_read_are_asked_for() {
    let layers = image();
    let mut h = History::new(&layers, husk_explore::ViewOptions::default());
    h.read_through(&layers, 0).unwrap();
    let mut b = Browser::new(h, crate::testing::summary(&layers), "t".into(), false);
    let s = screen(&b, 80, 24);
    assert!(s.contains("wasted ? (1/3 layers read)"), "{s}");
    assert_eq!(b.handle(Key::End), Effect::Load(2));
    b.set_loading(Some(1));
    assert!(screen(&b, 80, 24).contains("reading layer 1"));
    b.history_mut().read_through(&layers, 2).unwrap();
    b.set_loading(None);
    b.refresh();
    let s = screen(&b, 80, 24);
    assert!(s.contains("wasted 156 B"), "{s}");
}

#[test]
fn hostile_names_and_tiny_terminals() {
    let layers = vec![layer(&[
        E::File("evil\u{1b}]0;pwned\u{7}", b"x"),
        E::Link("l\u{9b}2J", "\u{1b}[31m"),
    ])];
    let mut b = browser(&layers, true);
    b.handle(Key::Tab);
    let s = screen(&b, 80, 24);
    assert!(!s.chars().any(|c| c.is_control() && c != '\n'), "{s:?}");
    assert!(s.contains("evil\\u{1b}]0;pwned\\u{7}"), "{s}");
    b.handle(Key::Char('c'));
    assert!(
        screen(&b, 80, 24).contains("to: ./copy"),
        "a control name is not prefilled"
    );
    for (w, h) in [(0, 0), (1, 1), (10, 4), (20, 6), (80, 24), (200, 60)] {
        screen(&b, w, h);
        b.handle(Key::Char('?'));
        screen(&b, w, h);
        b.handle(Key::Esc);
    }
    // An image without layers.
    let none: Vec<crate::testing::TarLayer> = vec![];
    let mut b = browser(&none, false);
    for k in [
        Key::Down,
        Key::Tab,
        Key::Down,
        Key::Char(' '),
        Key::Char('c'),
        Key::Char('x'),
    ] {
        assert_ne!(b.handle(k), Effect::Quit);
    }
    screen(&b, 80, 24);
}

#[test]
fn many_layers_in_80x24_keep_the_figures_and_the_selection_in_view() {
    let data: Vec<Vec<u8>> = (0..12).map(|i| vec![b'x'; i + 1]).collect();
    let layers: Vec<_> = data.iter().map(|d| layer(&[E::File("f", d)])).collect();
    let mut b = browser(&layers, false);
    let s = screen(&b, 80, 24);
    assert!(
        s.contains("efficiency ") && s.contains("wasted 66 B"),
        "{s}"
    );
    assert!(s.contains("66 B 11x /f"), "the top wasted file shows:\n{s}");
    b.handle(Key::End);
    let s = screen(&b, 80, 24);
    assert!(s.contains(">11"), "{s}");
    assert!(s.contains("Layer 11"), "{s}");
    b.handle(Key::Home);
    assert!(screen(&b, 80, 24).contains("> 0"));
}

#[test]
fn clicks_and_the_wheel_select_layers_and_rows_where_they_were_drawn() {
    let layers = image();
    let mut b = browser(&layers, false);
    // Before any frame the panes have no place on screen: the mouse does nothing.
    assert_eq!(b.handle(Key::Click(5, 3)), Effect::None);
    assert_eq!((b.layer(), b.focus), (0, Pane::Layers));
    screen(&b, 80, 24);
    let (la, ta) = (b.layers_area.get(), b.tree_area.get());
    assert!(la.width > 0 && ta.width > 0, "{la:?} {ta:?}");

    // A click on layer 2's row selects it; the wheel moves one layer.
    assert_eq!(b.handle(Key::Click(la.x + 2, la.y + 2)), Effect::None);
    assert_eq!(b.layer(), 2);
    b.handle(Key::WheelUp(la.x, la.y));
    assert_eq!(b.layer(), 1);
    b.handle(Key::WheelDown(la.x, la.y));
    b.handle(Key::WheelDown(la.x, la.y));
    assert_eq!(b.layer(), 2, "the wheel stops at the last layer");

    // A click on a tree row moves the cursor there and focuses the tree.
    let s = screen(&b, 80, 24);
    let y = s
        .lines()
        .position(|l| {
            let tree: String = l.chars().skip(32).collect();
            tree.trim_end_matches([' ', '│'])
                .split_whitespace()
                .any(|w| w == "usr")
        })
        .unwrap();
    b.handle(Key::Click(ta.x + 3, y as u16));
    assert_eq!(b.focus, Pane::Tree);
    assert_eq!(b.selected_path().unwrap().as_str(), "/usr");
    let at = b.cursor;
    b.handle(Key::WheelDown(ta.x, ta.y));
    assert_eq!(b.cursor, (at + 3).min(b.rows.len() - 1));
    b.handle(Key::WheelUp(ta.x, ta.y));
    b.handle(Key::WheelUp(ta.x, ta.y));
    assert_eq!(b.cursor, at.saturating_sub(3));
    // Below the last row, on a border, or outside both panes: nothing moves.
    let at = b.cursor;
    b.handle(Key::Click(ta.x, ta.y + ta.height - 1));
    b.handle(Key::Click(ta.x - 1, ta.y));
    b.handle(Key::Click(79, 23));
    b.handle(Key::Click(u16::MAX, u16::MAX));
    assert_eq!((b.cursor, b.layer(), b.focus), (at, 2, Pane::Tree));

    // While a search is typed the mouse is ignored; with the help open a click closes it.
    b.handle(Key::Char('/'));
    b.handle(Key::Click(la.x, la.y));
    assert_eq!((b.layer(), b.input.clone()), (2, Some(Input::Search)));
    b.handle(Key::Esc);
    b.handle(Key::Char('?'));
    b.handle(Key::Click(la.x, la.y));
    assert!(!b.help);
    assert_eq!(
        b.layer(),
        2,
        "the click that closes the help selects nothing"
    );
}
