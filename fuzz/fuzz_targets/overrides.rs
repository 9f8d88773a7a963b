//! BP_FILESYNC_* parsing on arbitrary values: never panics; every error
//! names one of the variables; every accepted pattern is valid.
#![no_main]

use filesync_rules::doublestar::validate;
use filesync_contract::settings::overrides;
use filesync_contract::variables::OVERRIDES as VARIABLES;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|values: Vec<(u8, &str)>| {
    let lookup = |name: &str| {
        values
            .iter()
            .find(|(i, _)| VARIABLES[*i as usize % VARIABLES.len()] == name)
            .map(|(_, v)| v.to_string())
    };
    match overrides(lookup) {
        Ok(o) => {
            for r in o.replace.iter().flatten().chain(&o.extra) {
                assert!(validate(&r.src).is_ok(), "accepted invalid {:?}", r.src);
            }
            for p in &o.ignore {
                assert!(validate(p).is_ok(), "accepted invalid ignore {p:?}");
            }
        }
        Err(e) => assert!(VARIABLES.contains(&e.variable.as_str()), "{e}"),
    }
});
