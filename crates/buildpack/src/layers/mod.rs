pub mod filesync;
pub mod maven;
