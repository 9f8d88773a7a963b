pub mod filesync;
pub mod java_dev;
pub mod maven;
