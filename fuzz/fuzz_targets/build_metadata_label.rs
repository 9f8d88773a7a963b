//! Skaffold's `io.buildpacks.build.metadata` label parser (what `filesync
//! inspect` reads from untrusted images): never panics on any input.
#![no_main]

use filesync_rules::skaffold::rules_from_build_metadata;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|label: &str| {
    let _ = rules_from_build_metadata(Some(label));
});
