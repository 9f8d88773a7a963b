pub(crate) mod filesync;
pub(crate) mod maven;
