pub mod build;
pub mod validate;
