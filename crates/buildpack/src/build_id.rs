//! The build id: new at every dev build, written into the runtime config so
//! that a restart record (the runtime's `record` module) is replayed only
//! into a container of the build that wrote it. Random rather than a digest
//! of the app: the image digest is not known while the buildpack runs, and
//! two builds of the same sources still make two images whose records must
//! not mix.

/// 32 hex digits from the OS's random source (a clock-and-pid fallback
/// should it ever be unavailable: still new at every build).
pub(crate) fn new() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_build_gets_a_new_id_usable_as_a_directory_name() {
        let (a, b) = (super::new(), super::new());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(filesync_contract::config::valid_build_id(&a), "{a}");
    }
}
