//! The two files `pack builder create` is given: the `builder.toml` that
//! derives NEW from FROM, and the `lifecycle.toml` descriptor beside FROM's
//! own lifecycle binaries.
//!
//! Why `[build] image = FROM` (pack v0.40.6 `pkg/client/create_builder.go`,
//! `pkg/builder/builder.go` `New`): pack then starts from FROM's image —
//! its buildpack layers, labels, build user (`CNB_USER_ID`) and stack — and
//! adds only what the file lists. `SetOrder` replaces the order, so the
//! whole order is written out again, with skaffold-filesync appended
//! (optional) to every group. `[[run.images]]` is not inherited and is
//! copied from FROM's metadata. `[lifecycle] uri` points at FROM's own
//! lifecycle copied out: without `[lifecycle]` pack would put its default
//! lifecycle in (a download from GitHub, which fails offline).

use super::errors::BUILDPACK_ID;
use super::labels::{ApiSet, Apis, BuilderLabels, Group, GroupEntry, RunImage};
use serde::Serialize;

/// The newest Platform API whose builds put the legacy BOM (and so the
/// `devmode.sync` rules) in the `io.buildpacks.build.metadata` label that
/// Skaffold's auto sync reads (lifecycle `platform/files/metadata.go`:
/// below 0.9 only).
pub(super) const NEWEST_LABEL_BOM_PLATFORM: (u32, u32) = (0, 8);

#[derive(Serialize)]
struct BuilderToml<'a> {
    description: String,
    buildpacks: Vec<Uri<'a>>,
    order: Vec<Group>,
    #[serde(rename = "order-extensions", skip_serializing_if = "Vec::is_empty")]
    order_extensions: Vec<Group>,
    build: Build<'a>,
    run: Run,
    lifecycle: Uri<'a>,
}

#[derive(Serialize)]
struct Uri<'a> {
    uri: &'a str,
}

#[derive(Serialize)]
struct Build<'a> {
    image: &'a str,
}

#[derive(Serialize)]
struct Run {
    images: Vec<RunImage>,
}

/// builder.toml for NEW: FROM as the base, `buildpack_uri` added, FROM's
/// order with skaffold-filesync last and optional in every group.
pub(super) fn builder_toml(
    from: &str,
    labels: &BuilderLabels,
    buildpack_uri: &str,
    lifecycle_dir: &str,
) -> String {
    let order = labels
        .order
        .iter()
        .map(|g| {
            let mut group = g.group.clone();
            group.push(GroupEntry {
                id: BUILDPACK_ID.into(),
                version: String::new(),
                optional: true,
            });
            Group { group }
        })
        .collect();
    let file = BuilderToml {
        description: format!("{from} with {BUILDPACK_ID} (made by filesync builder)"),
        buildpacks: vec![Uri { uri: buildpack_uri }],
        order,
        order_extensions: labels.order_extensions.clone(),
        build: Build { image: from },
        run: Run {
            images: labels.run_images.clone(),
        },
        lifecycle: Uri { uri: lifecycle_dir },
    };
    toml::to_string(&file).expect("builder.toml serializes")
}

/// `lifecycle.toml`, the descriptor a lifecycle release carries (and pack
/// reads into the builder's metadata, from which pack and Skaffold pick the
/// Platform API of every build).
#[derive(Serialize)]
struct Descriptor<'a> {
    api: LegacyApi<'a>,
    apis: &'a Apis,
    lifecycle: Info<'a>,
}

/// The pre-`apis` form, still read by old platforms: the oldest of each.
#[derive(Serialize)]
struct LegacyApi<'a> {
    buildpack: &'a str,
    platform: &'a str,
}

#[derive(Serialize)]
struct Info<'a> {
    version: &'a str,
}

fn oldest(set: &ApiSet) -> &str {
    set.supported.first().map_or("", |s| s.as_str())
}

pub(super) fn lifecycle_toml(version: &str, apis: &Apis) -> String {
    toml::to_string(&Descriptor {
        api: LegacyApi {
            buildpack: oldest(&apis.buildpack),
            platform: oldest(&apis.platform),
        },
        apis,
        lifecycle: Info { version },
    })
    .expect("lifecycle.toml serializes")
}

/// `"0.8"` → `(0, 8)`; `None` for what is no API version.
pub(super) fn parse_api(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The platform APIs of `set` whose builds put the BOM in the label.
pub(super) fn label_bom_only(set: &ApiSet) -> ApiSet {
    let keep = |v: &Vec<String>| {
        v.iter()
            .filter(|a| parse_api(a).is_some_and(|a| a <= NEWEST_LABEL_BOM_PLATFORM))
            .cloned()
            .collect()
    };
    ApiSet {
        deprecated: keep(&set.deprecated),
        supported: keep(&set.supported),
    }
}

/// The newest of `set.supported`: what pack (and Skaffold) will use.
pub(super) fn newest(set: &ApiSet) -> Option<&str> {
    set.supported
        .iter()
        .filter_map(|a| parse_api(a).map(|v| (v, a.as_str())))
        .max()
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::super::labels::tests::stock_config;
    use super::*;

    #[test]
    fn every_group_gets_skaffold_filesync_last_and_optional() {
        let labels = BuilderLabels::from_config("s", "d", &stock_config()).unwrap();
        let text = builder_toml("r/stock:1", &labels, "/rel/sf.cnb", "/tmp/lc");
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        let order = parsed["order"].as_array().unwrap();
        assert_eq!(order.len(), 2);
        for g in order {
            let last = g["group"].as_array().unwrap().last().unwrap();
            assert_eq!(last["id"].as_str(), Some("skaffold-filesync"));
            assert_eq!(last["optional"].as_bool(), Some(true));
        }
        assert_eq!(order[0]["group"][0]["version"].as_str(), Some("1.0.0"));
        assert_eq!(order[1]["group"][0]["optional"].as_bool(), Some(true));
        assert_eq!(parsed["build"]["image"].as_str(), Some("r/stock:1"));
        assert_eq!(
            parsed["run"]["images"][0]["image"].as_str(),
            Some("127.0.0.1:5000/stack/run-base:latest")
        );
        assert_eq!(parsed["lifecycle"]["uri"].as_str(), Some("/tmp/lc"));
        assert_eq!(parsed["buildpacks"][0]["uri"].as_str(), Some("/rel/sf.cnb"));
    }

    #[test]
    fn auto_keeps_only_platform_apis_up_to_0_8() {
        let set = ApiSet {
            deprecated: vec!["0.3".into()],
            supported: ["0.7", "0.8", "0.9", "0.10", "0.15"]
                .map(String::from)
                .to_vec(),
        };
        let legacy = label_bom_only(&set);
        assert_eq!(legacy.supported, ["0.7", "0.8"]);
        assert_eq!(legacy.deprecated, ["0.3"]);
        assert_eq!(newest(&set), Some("0.15"));
        assert_eq!(newest(&legacy), Some("0.8"));
        let none = label_bom_only(&ApiSet {
            deprecated: vec![],
            supported: vec!["0.12".into()],
        });
        assert!(none.supported.is_empty());
    }

    #[test]
    fn the_descriptor_carries_version_and_apis() {
        let apis = Apis {
            buildpack: ApiSet {
                deprecated: vec![],
                supported: vec!["0.7".into(), "0.12".into()],
            },
            platform: ApiSet {
                deprecated: vec![],
                supported: vec!["0.7".into(), "0.8".into()],
            },
        };
        let parsed: toml::Value = toml::from_str(&lifecycle_toml("0.21.17", &apis)).unwrap();
        assert_eq!(parsed["lifecycle"]["version"].as_str(), Some("0.21.17"));
        assert_eq!(parsed["api"]["platform"].as_str(), Some("0.7"));
        assert_eq!(
            parsed["apis"]["platform"]["supported"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}
