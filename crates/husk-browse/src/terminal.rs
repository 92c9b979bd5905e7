//! [`Guard`]: the terminal in raw mode on the alternate screen, cleared, with mouse
//! reports on, for as long as it lives. Clearing here rather than through ratatui's
//! `Terminal::clear` saves a cursor-position query (a round trip to the terminal, and a
//! failure where nothing answers) before the first frame. Dropping the guard restores the
//! terminal (normal mode, main screen, cursor shown, mouse reports off), and a panic
//! hook does the same before the panic message is printed, so no way out of the browser
//! (an error, a panic, `q`, Ctrl+C, which raw mode delivers as a key) leaves the terminal
//! raw.

use std::io;

use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

/// The terminal, taken over.
pub struct Guard(());

impl Guard {
    /// Raw mode, alternate screen (cleared), hidden cursor, mouse reports; a panic
    /// restores them first.
    ///
    /// # Errors
    /// The terminal's error (nothing is left changed).
    pub fn enter() -> io::Result<Guard> {
        enable_raw_mode()?;
        let guard = Guard(());
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            Clear(ClearType::All),
            Hide,
            EnableMouseCapture
        )?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        Ok(guard)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Put the terminal back; every step is tried even when one fails.
fn restore() {
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        Show,
        LeaveAlternateScreen
    );
    let _ = disable_raw_mode();
}
