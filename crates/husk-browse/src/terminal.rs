//! [`Guard`]: the terminal in raw mode on the alternate screen for as long as it lives.
//! Dropping it restores the terminal (normal mode, main screen, cursor shown), and a panic
//! hook does the same before the panic message is printed, so no way out of the browser
//! (an error, a panic, `q`, Ctrl+C, which raw mode delivers as a key) leaves the terminal
//! raw.

use std::io;

use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

/// The terminal, taken over.
pub struct Guard(());

impl Guard {
    /// Raw mode, alternate screen, hidden cursor; a panic restores them first.
    ///
    /// # Errors
    /// The terminal's error (nothing is left changed).
    pub fn enter() -> io::Result<Guard> {
        enable_raw_mode()?;
        let guard = Guard(());
        execute!(io::stdout(), EnterAlternateScreen, Hide)?;
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
    let _ = execute!(io::stdout(), Show, LeaveAlternateScreen);
    let _ = disable_raw_mode();
}
