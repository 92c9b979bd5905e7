//! How untrusted text (file names, link targets, layer commands, config values) and sizes
//! are shown on the screen.
//!
//! [`clean`] is the one place the TUI neutralises names from the image: a control
//! character written to the terminal could move the cursor, retitle the window or change
//! colours under ratatui's feet. It is husk's one escaping helper (`husk_oci::escape`,
//! re-exported by husk-explore): control characters (C0, DEL, C1) and bidi overrides become
//! `\u{..}`/`\n` escapes, as every text command prints them, so a name reads the same in
//! `husk ls` and on this screen.

use std::borrow::Cow;

/// `s` with control characters escaped (`\n`, `\u{1b}`, ...) and backslashes doubled.
pub fn clean(s: &str) -> Cow<'_, str> {
    husk_explore::escape(s)
}

pub use husk_explore::human_bytes as bytes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_the_terminal() {
        for raw in [
            "\u{1b}]0;pwned\u{7}",
            "a\nb",
            "\u{9b}31m",
            "del\u{7f}",
            "\r",
        ] {
            let c = clean(raw);
            assert!(!c.chars().any(char::is_control), "{raw:?} -> {c:?}");
        }
        assert_eq!(clean("plain"), "plain");
    }

    #[test]
    fn sizes_and_modes() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(17_301_504), "16.5 MiB");
        use husk_explore::mode_string;
        assert_eq!(mode_string('-', 0o4755), "-rwsr-xr-x");
        assert_eq!(mode_string('d', 0o1777), "drwxrwxrwt");
    }
}
