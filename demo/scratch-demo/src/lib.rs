//! scratch-demo: the HTTPS demo service from the article husk grew from, in Rust and
//! hardened. It is husk's reference app: a static binary that runs FROM scratch as
//! 1000:1000 with a read-only root filesystem.
//!
//! # What it does
//! Every path is answered with `Hello, <quoted> from Scratch Demo!`, byte for byte as the
//! Go original (`fmt.Fprintf(w, "Hello, %q from Scratch Demo!", html.EscapeString(r.URL.Path))`)
//! would: see [`greeting`] for the three Go semantics reproduced and how `unicode.IsPrint`
//! is approximated.
//!
//! # How it is shaped
//! - [`greeting`]: pure functions, no I/O; the table of expected Go outputs lives beside them.
//! - [`tls`]: PEM loading, rcgen self-signed generation (in memory, or `gen-cert` files with
//!   the key created 0600), and the rustls config: ring provider passed explicitly,
//!   TLS 1.2 + 1.3 only, ALPN `h2`, `http/1.1`.
//! - [`server`]: the accept loop on hyper's HTTP/1.1 and HTTP/2 connection builders with
//!   every limit in [`server::ServeOptions`]: a deadline in every connection state, a
//!   connection cap that sheds the least active idle connection of the heaviest address,
//!   rate-limited event logs, and graceful shutdown driven by a future the caller passes
//!   in, so tests shut it down with a channel and the binary with signals.
//! - [`healthcheck`]: a minimal HTTPS probe for images without curl.
//! - [`log`]: text or JSON lines on stderr.
//! - [`error`]: the crate's one error type.
//!
//! The binary (`src/main.rs`) only parses arguments and the environment, wires signals,
//! and maps errors to exit codes (0 ok, 1 unhealthy, 2 error). Nothing here reads the
//! environment.

pub mod error;
pub mod greeting;
pub mod healthcheck;
pub mod log;
pub mod server;
pub mod tls;

pub use error::{Error, Result};
