//! The cache volumes pack leaves in the private Docker Engine, removed when
//! the HOME they belong to is done with.
//!
//! pack (the CLI, and Skaffold, which runs it as a library) keeps each
//! image's build and launch caches in two volumes,
//! `pack-cache-<image>-<hash>.build` and `….launch`, where `<hash>` is the
//! first 6 bytes of `sha256(image name + volume key)` in hex and the key,
//! unless `PACK_VOLUME_KEY` is set, is a random one pack stores per image
//! name in `$PACK_HOME/volume-keys.toml` (default `$HOME/.pack`) —
//! pack v0.40.6 `pkg/cache/volume_cache.go` (`NewVolumeCache`,
//! `getVolumeKey`) and `internal/config/config.go` (`PackHome`). Every
//! `skaffold dev` of the suite runs with a HOME of its own, so its volumes
//! are never used again once it ends; left alone they came to 15 GB in one
//! run of the suite (102 volumes of 11–400 MB), and CI's kubelet then
//! evicted a Pod for disk pressure.

use crate::docker::Docker;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

#[derive(Deserialize, Default)]
struct VolumeKeys {
    #[serde(rename = "volume-keys", default)]
    volume_keys: BTreeMap<String, String>,
}

/// The `<hash>` part of the volume names pack derives from `image` and `key`.
fn volume_hash(image: &str, key: &str) -> String {
    let sum = Sha256::digest(format!("{image}{key}"));
    sum[..6].iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The hashes of every volume pack made for images built with `home` as
/// HOME (no `PACK_HOME`, no `PACK_VOLUME_KEY`).
fn hashes_for_home(home: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(home.join(".pack/volume-keys.toml")) else {
        return Vec::new();
    };
    let keys: VolumeKeys = toml::from_str(&text).unwrap_or_default();
    keys.volume_keys
        .iter()
        .map(|(image, key)| volume_hash(image, key))
        .collect()
}

/// Removes from the private daemon the build and launch cache volumes pack
/// made for builds run with `home` as HOME. A volume still in use (a build
/// of that HOME still running) stays, and so does everything else.
pub fn remove_for_home(home: &Path) {
    let hashes = hashes_for_home(home);
    if hashes.is_empty() {
        return;
    }
    let docker = Docker::get();
    let Ok(out) = docker
        .cli()
        .args(["volume", "ls", "-q", "--filter", "name=pack-cache-"])
        .output()
    else {
        return;
    };
    let mine: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|v| is_of(v, &hashes))
        .map(str::to_string)
        .collect();
    if mine.is_empty() {
        return;
    }
    let removed = docker.cli().args(["volume", "rm"]).args(&mine).output();
    if let Ok(o) = removed {
        if !o.status.success() {
            eprintln!(
                "pack cache volumes of {}: {}",
                home.display(),
                String::from_utf8_lossy(&o.stderr).trim()
            );
        }
    }
}

fn is_of(volume: &str, hashes: &[String]) -> bool {
    let Some(stem) = volume
        .strip_suffix(".build")
        .or_else(|| volume.strip_suffix(".launch"))
    else {
        return false;
    };
    volume.starts_with("pack-cache-")
        && hashes.iter().any(|h| {
            stem.strip_suffix(h.as_str())
                .is_some_and(|s| s.ends_with('-'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_first_six_bytes_of_the_sha256_in_hex() {
        // printf '%s' "127.0.0.1:39301/example-basic:latestabcdefghijklmnopqrst" | sha256sum
        assert_eq!(
            volume_hash(
                "127.0.0.1:39301/example-basic:latest",
                "abcdefghijklmnopqrst"
            ),
            "362e84d6c72b"
        );
    }

    #[test]
    fn only_the_volumes_of_these_hashes_match() {
        let hashes = vec!["0123456789ab".to_string()];
        assert!(is_of(
            "pack-cache-example-basic_latest-0123456789ab.build",
            &hashes
        ));
        assert!(is_of(
            "pack-cache-example-basic_latest-0123456789ab.launch",
            &hashes
        ));
        assert!(!is_of(
            "pack-cache-example-basic_latest-0123456789ac.build",
            &hashes
        ));
        assert!(!is_of(
            "pack-cache-example-basic_latest-0123456789ab.other",
            &hashes
        ));
        assert!(!is_of(
            "other-example-basic_latest-0123456789ab.build",
            &hashes
        ));
    }
}
