pub(crate) mod filesync;
pub(crate) mod go_dev;
pub(crate) mod java_dev;
pub(crate) mod maven;
