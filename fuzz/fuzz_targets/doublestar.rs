//! The doublestar v1.3.4 matcher on arbitrary patterns and names: never
//! panics, and a pattern that `validate` accepts never reports a bad
//! pattern while matching (the buildpack relies on this to reject user
//! patterns up front instead of failing inside Skaffold).
#![no_main]

use filesync_rules::doublestar::{path_match, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str)| {
    let (pattern, name) = input;
    let matched = path_match(pattern, name);
    if validate(pattern).is_ok() {
        assert!(matched.is_ok(), "validate accepted {pattern:?} but matching {name:?} errs");
    }
});
