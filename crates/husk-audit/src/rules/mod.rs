//! The rules: one file per rule, image rules under `image/`, Dockerfile rules under
//! `dockerfile/`. A new rule is a file here plus one line in [`crate::registry::RULES`].

pub mod dockerfile;
pub mod image;
