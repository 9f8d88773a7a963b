//! The `rm` shim. Skaffold deletes synced files with exactly `rm -rf --
//! DEST…`; for that form we delete ourselves (symlinks removed, never
//! followed; missing paths fine as with -f; `/` refused) and then tell the
//! supervisor. Any other invocation goes unchanged to the image's own `rm`;
//! without one it is a usage error (exit 2) that touches nothing.

use crate::protocol::Session;
use std::ffi::OsString;
use std::path::Path;

pub fn is_skaffold_form(args: &[OsString]) -> bool {
    args.len() >= 3 && args[0] == "-rf" && args[1] == "--"
}

fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
}

pub fn run(args: &[OsString]) -> i32 {
    if !is_skaffold_form(args) {
        return match crate::delegate::image_tool("rm") {
            Some(tool) => {
                let e = crate::delegate::exec(&tool, "rm", args);
                eprintln!("filesync rm: running {}: {e}", tool.display());
                126
            }
            None => {
                eprintln!("filesync rm: this image has no rm of its own; only Skaffold's form is supported: rm -rf -- PATH...");
                2
            }
        };
    }
    let paths = &args[2..];
    if let Some(bad) = paths.iter().find(|p| {
        let p = Path::new(p);
        p.as_os_str().is_empty()
            || p.components()
                .all(|c| matches!(c, std::path::Component::RootDir))
    }) {
        eprintln!("filesync rm: refusing to remove {bad:?}");
        return 2;
    }
    let session = Session::begin();
    let mut status = 0;
    for p in paths {
        if let Err(e) = remove(Path::new(p)) {
            eprintln!("filesync rm: {}: {e}", Path::new(p).display());
            status = 1;
        }
    }
    if status == 0 {
        session.end(paths.len(), "rm");
        crate::log!("rm: {} path(s) removed", paths.len());
    }
    status
}
