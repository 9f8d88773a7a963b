//! Tar streams as Skaffold's syncer writes them: entries named by their
//! absolute path in the container.
//!
//! The `tar` crate's `Header::set_path` refuses absolute paths (archives it
//! writes are meant to extract below a directory), so the raw name bytes
//! are set here, in one place, for every test and benchmark that plays
//! Skaffold.

use std::path::PathBuf;

/// A header for `name` (absolute, as Skaffold writes it; at most 100
/// bytes) of `kind` and `size`, mode 0644, with `link` as its link name.
pub fn header(name: &str, kind: tar::EntryType, size: u64, link: Option<&str>) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(kind);
    let name = name.as_bytes();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    if let Some(l) = link {
        h.set_link_name(l).expect("a link name tar can hold");
    }
    h.set_cksum();
    h
}

/// The stream Skaffold sends for `files`: regular files, `(absolute path,
/// content)`.
pub fn stream(files: &[(PathBuf, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let name = path.to_str().expect("a UTF-8 path");
        let h = header(name, tar::EntryType::Regular, data.len() as u64, None);
        b.append(&h, data.as_slice()).expect("appending to memory");
    }
    b.into_inner().expect("a tar stream in memory")
}
