//! Integration harness: builds images with the real CNB lifecycle (built
//! from its Go module by `scripts/setup.sh`), pushes them to a real registry
//! on 127.0.0.1 (Debian's `docker-registry`) or an OCI layout, and reads
//! them back with skopeo/umoci. No part is mocked.
//!
//! ```no_run
//! use filesync_e2e::{Harness, BuildSpec};
//! let h = Harness::get();
//! let out = h.build(&BuildSpec::new("crates/rules/tests/fixtures/node-npm").devmode()).unwrap();
//! let image = out.image.expect("the build succeeded");
//! let labels = image.labels().unwrap();
//! ```
//!
//! Phases run as an unprivileged user (uid 1000): the lifecycle refuses to
//! build as root. Tests need root for that switch (and for runc), as in CI.

// A test harness: a panic here fails the test that called it, with its message.
#![allow(clippy::unwrap_used)]

pub mod builder;
pub mod cluster;
pub mod container;
pub mod dependencies;
pub mod docker;
pub mod http;
pub mod image;
pub mod lifecycle;
pub mod live_line;
pub mod pack_volumes;
pub mod providers;
pub mod reachable;
pub mod registry;
pub mod release;
pub mod skaffold_dev;
pub mod skaffold_sync;
pub mod skaffold_tar;
pub mod stock_builder;
pub mod tools;

pub use image::Image;
pub use lifecycle::{BuildOutput, BuildSpec, Harness};
