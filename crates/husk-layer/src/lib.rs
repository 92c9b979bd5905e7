//! husk-layer
