//! husk-formats
