//! Names from layers are untrusted: a file called `\x1b]0;pwned\x07` must not retitle the
//! terminal that lists it. [`escape`] (husk-oci's one escaping helper, re-exported so the
//! explore commands keep one import) is applied to every name and link target husk prints.

pub use husk_oci::escape::{escape, escape_text};
