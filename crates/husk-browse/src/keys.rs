//! The keys the browser understands (mouse clicks and the wheel among them), independent
//! of the terminal library, and the one mapping from crossterm's events to them (so the
//! state machine is tested without a terminal).

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

/// One key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Tab,
    BackTab,
    /// Enter; also Ctrl+M, which terminals send as the same byte.
    Enter,
    Esc,
    Backspace,
    Char(char),
    /// A letter with Ctrl held (lower case): `Ctrl('a')`.
    Ctrl(char),
    /// The left mouse button pressed at a cell (column, row; 0-based from the top left).
    Click(u16, u16),
    /// The mouse wheel turned up (away from the user) over a cell.
    WheelUp(u16, u16),
    /// The mouse wheel turned down over a cell.
    WheelDown(u16, u16),
}

impl Key {
    /// The key of a crossterm event; `None` for releases and keys the browser ignores.
    pub fn from_event(e: KeyEvent) -> Option<Key> {
        if e.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        Some(match e.code {
            KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Home => Key::Home,
            KeyCode::End => Key::End,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Backspace => Key::Backspace,
            _ => return None,
        })
    }

    /// The key of a mouse event: a left click or a wheel turn; `None` for the rest
    /// (releases, drags, moves, other buttons).
    pub fn from_mouse(e: MouseEvent) -> Option<Key> {
        let (c, r) = (e.column, e.row);
        match e.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Key::Click(c, r)),
            MouseEventKind::ScrollUp => Some(Key::WheelUp(c, r)),
            MouseEventKind::ScrollDown => Some(Key::WheelDown(c, r)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossterm_events_map_to_keys() {
        let k = |code, m| Key::from_event(KeyEvent::new(code, m));
        assert_eq!(
            k(KeyCode::Char('a'), KeyModifiers::CONTROL),
            Some(Key::Ctrl('a'))
        );
        assert_eq!(
            k(KeyCode::Char('C'), KeyModifiers::CONTROL),
            Some(Key::Ctrl('c'))
        );
        assert_eq!(
            k(KeyCode::Char('q'), KeyModifiers::NONE),
            Some(Key::Char('q'))
        );
        assert_eq!(k(KeyCode::Tab, KeyModifiers::NONE), Some(Key::Tab));
        assert_eq!(k(KeyCode::F(5), KeyModifiers::NONE), None);
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(Key::from_event(release), None);
    }

    #[test]
    fn mouse_events_map_to_clicks_and_wheel_turns() {
        let m = |kind| {
            Key::from_mouse(MouseEvent {
                kind,
                column: 7,
                row: 3,
                modifiers: KeyModifiers::NONE,
            })
        };
        assert_eq!(
            m(MouseEventKind::Down(MouseButton::Left)),
            Some(Key::Click(7, 3))
        );
        assert_eq!(m(MouseEventKind::ScrollUp), Some(Key::WheelUp(7, 3)));
        assert_eq!(m(MouseEventKind::ScrollDown), Some(Key::WheelDown(7, 3)));
        assert_eq!(m(MouseEventKind::Down(MouseButton::Right)), None);
        assert_eq!(m(MouseEventKind::Up(MouseButton::Left)), None);
        assert_eq!(m(MouseEventKind::Drag(MouseButton::Left)), None);
        assert_eq!(m(MouseEventKind::Moved), None);
    }
}
