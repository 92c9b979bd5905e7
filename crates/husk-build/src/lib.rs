//! husk-build
