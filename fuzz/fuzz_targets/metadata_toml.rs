//! The readers of what an image carries: the lifecycle's metadata.toml and
//! our recorded runtime config — never panic on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(m) = toml::from_str::<filesync_runtime::metadata::Metadata>(text) {
        for p in &m.processes {
            let _ = p.argv();
        }
    }
    let _ = toml::from_str::<filesync_runtime::config::RuntimeConfig>(text);
});
