//! [`draw`]: the browser's state as one frame. Left: layers, the selected layer's details,
//! the image's details and the top wasted files; right: the tree; a status line at the
//! bottom (key hints, the path under the cursor, a prompt or a message); `?` lays the
//! help over it all. Change kinds show as a symbol always (`+ ~ -`) and as a colour unless
//! `NO_COLOR`; the selection is reverse video either way.

use husk_explore::ChangeKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::model::{Browser, Input, Pane};
use crate::text::{bytes, clean};

/// The key list `?` shows.
pub const HELP: &[(&str, &str)] = &[
    ("Tab", "switch pane (layers / tree)"),
    ("Up/Down j/k", "move; PgUp/PgDn, Home/End"),
    ("Space", "collapse/expand directory"),
    ("Left/Right h/l", "collapse / expand"),
    ("/", "search paths (Enter keeps, Esc clears)"),
    ("Ctrl+A", "show/hide added"),
    ("Ctrl+R", "show/hide removed"),
    ("Ctrl+M, Enter", "show/hide modified"),
    ("Ctrl+U", "show/hide unchanged"),
    ("Ctrl+L", "layer's own entries / whole tree"),
    ("c", "copy selected path out (safe extraction)"),
    ("x", "export selected layer as a tar"),
    ("mouse", "click: select layer / row; wheel: scroll"),
    ("q, Ctrl+C", "quit"),
];

/// Draw the whole screen.
pub fn draw(f: &mut Frame, b: &Browser) {
    let area = f.area();
    let [title, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let left_width = (area.width * 2 / 5).clamp(30.min(area.width), 60);
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Min(10)]).areas(body);
    title_line(f, b, title);
    left_panes(f, b, left);
    tree_pane(f, b, right);
    status_line(f, b, status);
    if b.help {
        help(f, area);
    }
}

fn title_line(f: &mut Frame, b: &Browser, area: Rect) {
    let text = format!(
        " husk browse {}  layer {}/{}  ? help  q quit",
        clean(&b.title),
        b.layer,
        b.layer_count().saturating_sub(1)
    );
    let style = Style::default().add_modifier(Modifier::BOLD);
    f.render_widget(Paragraph::new(text).style(style), area);
}

fn block<'a>(b: &Browser, title: &'a str, focused: bool) -> Block<'a> {
    let mut style = Style::default();
    if focused {
        style = style.add_modifier(Modifier::BOLD);
        if b.color {
            style = style.fg(Color::Cyan);
        }
    }
    let title = if focused {
        format!("▶ {title}")
    } else {
        title.to_owned()
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(title)
}

fn left_panes(f: &mut Frame, b: &Browser, area: Rect) {
    // The details (6 and 7 rows) and 3 rows of wasted files always fit; the layers
    // list takes what is left, up to 9 rows (it scrolls).
    let n = b.layer_count() as u16;
    let room = area.height.saturating_sub(6 + 7 + 3).max(3);
    let [layers, layer, image, wasted] = Layout::vertical([
        Constraint::Length((n + 2).clamp(3, 9).min(room)),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Min(3),
    ])
    .areas(area);
    layers_pane(f, b, layers);
    layer_details(f, b, layer);
    image_details(f, b, image);
    wasted_files(f, b, wasted);
}

/// Scroll `top` so that `cursor` is within `height` rows; returns the new top.
fn scrolled(top: usize, cursor: usize, height: usize) -> usize {
    let height = height.max(1);
    if cursor < top {
        cursor
    } else if cursor >= top + height {
        cursor + 1 - height
    } else {
        top
    }
}

fn layers_pane(f: &mut Frame, b: &Browser, area: Rect) {
    b.layers_area.set(area.inner(Margin::new(1, 1)));
    let height = area.height.saturating_sub(2) as usize;
    let top = scrolled(b.layers_top.get(), b.layer, height);
    b.layers_top.set(top);
    let lines: Vec<Line> = b
        .summary
        .layers
        .iter()
        .skip(top)
        .take(height)
        .map(|l| {
            let cmd = command(l.created_by.as_deref());
            let read = if l.index < b.history.loaded() {
                ' '
            } else {
                '·'
            };
            let at = if l.index == b.layer { '>' } else { ' ' };
            let text = format!("{at}{:>2}{read}{:>9} {cmd}", l.index, bytes(l.size));
            let style = if l.index == b.layer {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            };
            Line::styled(text, style)
        })
        .collect();
    let title = "Layers";
    f.render_widget(
        Paragraph::new(lines).block(block(b, title, b.focus == Pane::Layers)),
        area,
    );
}

/// A layer's command from the history, short: without the `/bin/sh -c` and `#(nop)`
/// builders put in front, an exec form (`["/bin/busybox", "rm"]`) as words; cleaned.
pub fn command(created_by: Option<&str>) -> String {
    let cmd = created_by.unwrap_or_default();
    let cmd = cmd.trim_start_matches("/bin/sh -c ");
    let cmd = cmd.trim_start_matches("#(nop) ").trim();
    let words = cmd
        .starts_with('[')
        .then(|| serde_json::from_str::<Vec<String>>(cmd).ok())
        .flatten();
    match words {
        Some(w) => clean(&w.join(" ")).into_owned(),
        None => clean(cmd).into_owned(),
    }
}

fn layer_details(f: &mut Frame, b: &Browser, area: Rect) {
    let info = b.summary.layers.get(b.layer);
    let digest = info.map_or("", |l| l.digest.as_str());
    let mut lines = vec![
        Line::raw(format!("digest {}", clean(digest))),
        Line::raw(command(info.and_then(|l| l.created_by.as_deref()))),
    ];
    match (b.history.changes().get(b.layer), &b.loading) {
        (_, Some((i, size))) => lines.push(Line::raw(format!(
            "reading layer {i} ({} compressed)...",
            bytes(*size)
        ))),
        (Some(c), None) => {
            let (a, ab) = c.tally(ChangeKind::Added);
            let (m, mb) = c.tally(ChangeKind::Modified);
            let (r, rb) = c.tally(ChangeKind::Removed);
            lines.push(Line::from(vec![
                mark_span(b, ChangeKind::Added, format!("+{a} ({})", bytes(ab))),
                Span::raw(" "),
                mark_span(b, ChangeKind::Modified, format!("~{m} ({})", bytes(mb))),
                Span::raw(" "),
                mark_span(b, ChangeKind::Removed, format!("-{r} ({})", bytes(rb))),
            ]));
            if let Some(e) = b.efficiency.as_ref().and_then(|e| e.layers.get(b.layer)) {
                lines.push(Line::raw(format!(
                    "added {}, wasted later {}",
                    bytes(e.added_bytes),
                    bytes(e.wasted_bytes)
                )));
            }
        }
        (None, None) => lines.push(Line::raw("not read yet")),
    }
    let title = format!("Layer {}", b.layer);
    f.render_widget(Paragraph::new(lines).block(block(b, &title, false)), area);
}

fn image_details(f: &mut Frame, b: &Browser, area: Rect) {
    let s = &b.summary;
    let join = |v: &Option<Vec<String>>| {
        v.as_ref()
            .map(|v| clean(&v.join(" ")).into_owned())
            .unwrap_or_default()
    };
    let total: u64 = s.layers.iter().map(|l| l.size).sum();
    // The figures first: they must show even when the block is squeezed.
    let figures = match &b.efficiency {
        Some(e) => format!(
            "efficiency {:.1}%  wasted {}",
            e.efficiency * 100.0,
            bytes(e.wasted_bytes)
        ),
        None => format!(
            "wasted ? ({}/{} layers read)",
            b.history.loaded(),
            b.history.total()
        ),
    };
    let lines = vec![
        Line::raw(figures),
        Line::raw(format!("size {} ({} layers)", bytes(total), s.layers.len())),
        Line::raw(format!(
            "user {}  ports {}",
            clean(s.user.as_deref().unwrap_or("(root)")),
            clean(&s.ports.join(","))
        )),
        Line::raw(format!(
            "entrypoint {} {}",
            join(&s.entrypoint),
            join(&s.cmd)
        )),
        Line::raw(format!(
            "env {}",
            clean(&s.env.first().cloned().unwrap_or_default())
        )),
    ];
    f.render_widget(Paragraph::new(lines).block(block(b, "Image", false)), area);
}

fn wasted_files(f: &mut Frame, b: &Browser, area: Rect) {
    let height = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = b
        .wasted
        .iter()
        .take(height)
        .map(|w| {
            Line::raw(format!(
                "{:>9} {:>2}x {}",
                bytes(w.wasted_bytes),
                w.copies,
                clean(&w.path)
            ))
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(block(b, "Top wasted files", false)),
        area,
    );
}

fn mark_style(b: &Browser, kind: ChangeKind) -> Style {
    if !b.color {
        return Style::default();
    }
    match kind {
        ChangeKind::Added => Style::default().fg(Color::Green),
        ChangeKind::Modified => Style::default().fg(Color::Yellow),
        ChangeKind::Removed => Style::default().fg(Color::Red),
        ChangeKind::Unchanged => Style::default(),
    }
}

fn mark_span(b: &Browser, kind: ChangeKind, text: String) -> Span<'static> {
    Span::styled(text, mark_style(b, kind))
}

fn tree_title(b: &Browser) -> String {
    let f = &b.filter;
    let flag = |on: bool, c: char| if on { c } else { '.' };
    let mode = if f.layer_only {
        format!("Layer {} entries", b.layer)
    } else {
        format!("Tree as of layer {}", b.layer)
    };
    let mut t = format!(
        "{mode} [{}{}{}{}]",
        flag(f.added, '+'),
        flag(f.modified, '~'),
        flag(f.removed, '-'),
        flag(f.unchanged, '=')
    );
    if !b.search.is_empty() {
        t.push_str(&format!(" /{}", clean(&b.search)));
    }
    t
}

fn tree_pane(f: &mut Frame, b: &Browser, area: Rect) {
    b.tree_area.set(area.inner(Margin::new(1, 1)));
    let height = area.height.saturating_sub(2) as usize;
    b.page.set(height.max(1));
    let top = scrolled(b.tree_top.get(), b.cursor, height);
    b.tree_top.set(top);
    let wide = area.width >= 72;
    let mut lines: Vec<Line> = Vec::new();
    match &b.tree {
        None if b.loading.is_some() => lines.push(Line::raw("reading the layer...")),
        None => lines.push(Line::raw(
            "this layer could not be read (see the status line)",
        )),
        Some(t) => {
            for (row, &i) in b.rows.iter().enumerate().skip(top).take(height) {
                let e = &t.entries[i];
                let Some(n) = b.node(i) else { continue };
                let fold = match (e.dir, b.collapsed.contains(&e.path)) {
                    (true, true) => "▸ ",
                    (true, false) => "▾ ",
                    _ => "  ",
                };
                let name = e.path.file_name().unwrap_or("/");
                let link = match &n.kind {
                    husk_explore::EntryKind::Symlink(t) => format!(" -> {}", clean(t)),
                    _ => String::new(),
                };
                let owner = if wide {
                    format!("{:>11} ", format!("{}:{}", n.uid, n.gid))
                } else {
                    String::new()
                };
                let text = format!(
                    "{} {} {owner}{:>9} {}{fold}{}{link}",
                    e.kind.symbol(),
                    n.mode_string(),
                    if n.is_dir() {
                        String::new()
                    } else {
                        bytes(n.size)
                    },
                    "  ".repeat(e.depth),
                    clean(name),
                );
                let mut style = mark_style(b, e.kind);
                if row == b.cursor {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                lines.push(Line::styled(text, style));
            }
            if b.rows.is_empty() {
                lines.push(Line::raw("nothing matches (Esc clears the search)"));
            }
        }
    }
    f.render_widget(
        Paragraph::new(lines).block(block(b, &tree_title(b), b.focus == Pane::Tree)),
        area,
    );
}

fn status_line(f: &mut Frame, b: &Browser, area: Rect) {
    let text = match &b.input {
        Some(Input::Search) => format!("/{}", clean(&b.search)),
        Some(Input::Copy(p, dest)) => {
            format!("copy {} to: {}", clean(p.as_str()), clean(dest))
        }
        Some(Input::Export(l, dest)) => format!("export layer {l} to: {}", clean(dest)),
        None if !b.status.is_empty() => clean(&b.status).into_owned(),
        None => match (b.focus, b.selected_path()) {
            (Pane::Tree, Some(p)) => clean(p.as_str()).into_owned(),
            _ => "Tab pane  / search  ^A^R^M^U filters  ^L layer/tree  c copy  x export".into(),
        },
    };
    f.render_widget(Paragraph::new(text), area);
}

fn help(f: &mut Frame, area: Rect) {
    let h = (HELP.len() as u16 + 2).min(area.height);
    let w = 60.min(area.width);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| Line::raw(format!("{k:>15}  {what}")))
        .collect();
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title("Keys (any key closes)"),
        ),
        r,
    );
}
