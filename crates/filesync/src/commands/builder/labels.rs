//! What a builder image says about itself, in the labels `pack builder
//! create` writes (pack v0.40.6 `pkg/builder/builder.go`, `metadata.go`):
//!
//! - `io.buildpacks.builder.metadata`: the buildpacks it carries, its run
//!   images (`images`, and the older `stack.runImage`), its lifecycle's
//!   version and the Buildpack and Platform APIs that lifecycle offers;
//! - `io.buildpacks.buildpack.order`: `[{group: [{id, version, optional}]}]`;
//! - `io.buildpacks.buildpack.order-extensions`: the same for extensions;
//! - `io.buildpacks.buildpack.layers`: `{id: {version: {api, layerDiffID…}}}`.

use super::errors::{BuilderError, BUILDPACK_ID};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub(super) const METADATA: &str = "io.buildpacks.builder.metadata";
pub(super) const ORDER: &str = "io.buildpacks.buildpack.order";
pub(super) const ORDER_EXTENSIONS: &str = "io.buildpacks.buildpack.order-extensions";
pub(super) const LAYERS: &str = "io.buildpacks.buildpack.layers";

/// The builder as its labels describe it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BuilderLabels {
    pub buildpacks: Vec<BuildpackRef>,
    pub order: Vec<Group>,
    pub order_extensions: Vec<Group>,
    pub run_images: Vec<RunImage>,
    pub lifecycle: Lifecycle,
    /// `io.buildpacks.stack.id`, when the builder has one.
    pub stack_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(super) struct BuildpackRef {
    pub id: String,
    #[serde(default)]
    pub version: String,
}

/// One `[[order]]` entry: buildpacks tried together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Group {
    pub group: Vec<GroupEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct GroupEntry {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct RunImage {
    pub image: String,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub mirrors: Vec<String>,
}

/// The lifecycle inside the builder, as pack recorded its descriptor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(super) struct Lifecycle {
    pub version: String,
    /// Absent in builders made before pack 0.17: then only `api`.
    #[serde(default)]
    pub apis: Option<Apis>,
    #[serde(default)]
    pub api: Option<SingleApis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Apis {
    pub buildpack: ApiSet,
    pub platform: ApiSet,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(super) struct ApiSet {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub deprecated: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub supported: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(super) struct SingleApis {
    pub buildpack: String,
    pub platform: String,
}

impl Lifecycle {
    /// The API sets, from `apis` or, on old builders, the single `api`.
    pub(super) fn api_sets(&self) -> Apis {
        match (&self.apis, &self.api) {
            (Some(apis), _) => apis.clone(),
            (None, Some(one)) => Apis {
                buildpack: ApiSet {
                    deprecated: vec![],
                    supported: vec![one.buildpack.clone()],
                },
                platform: ApiSet {
                    deprecated: vec![],
                    supported: vec![one.platform.clone()],
                },
            },
            (None, None) => Apis {
                buildpack: ApiSet::default(),
                platform: ApiSet::default(),
            },
        }
    }
}

/// pack's `io.buildpacks.builder.metadata`, the fields read here.
#[derive(Deserialize)]
struct Metadata {
    #[serde(default, deserialize_with = "null_as_empty")]
    buildpacks: Vec<BuildpackRef>,
    #[serde(default, deserialize_with = "null_as_empty")]
    images: Vec<RunImage>,
    #[serde(default)]
    stack: Option<StackMetadata>,
    lifecycle: Lifecycle,
}

#[derive(Deserialize)]
struct StackMetadata {
    #[serde(rename = "runImage")]
    run_image: Option<RunImage>,
}

impl BuilderLabels {
    /// The builder `image`'s labels from its config (`source` says where
    /// it was read, for the error).
    pub(super) fn from_config(
        image: &str,
        source: &str,
        config: &Value,
    ) -> Result<Self, BuilderError> {
        let labels = &config["config"]["Labels"];
        let text = |label: &'static str| labels.get(label).and_then(Value::as_str);
        let Some(metadata) = text(METADATA) else {
            return Err(BuilderError::NotABuilder {
                image: image.into(),
                source: source.into(),
            });
        };
        let malformed = |label: &'static str, e: serde_json::Error| BuilderError::Malformed {
            image: image.into(),
            label,
            detail: e.to_string(),
        };
        let metadata: Metadata =
            serde_json::from_str(metadata).map_err(|e| malformed(METADATA, e))?;
        let groups = |label: &'static str| -> Result<Vec<Group>, BuilderError> {
            match text(label) {
                None => Ok(Vec::new()),
                Some(t) => serde_json::from_str::<Option<Vec<Group>>>(t)
                    .map(Option::unwrap_or_default)
                    .map_err(|e| malformed(label, e)),
            }
        };
        let order = groups(ORDER)?;
        let order_extensions = groups(ORDER_EXTENSIONS)?;
        let layers: BTreeMap<String, BTreeMap<String, Value>> = match text(LAYERS) {
            None => BTreeMap::new(),
            Some(t) => serde_json::from_str(t).map_err(|e| malformed(LAYERS, e))?,
        };
        if let Some(version) = filesync_version(&metadata.buildpacks, &layers) {
            return Err(BuilderError::AlreadyHasBuildpack {
                image: image.into(),
                version,
            });
        }
        let mut run_images = metadata.images;
        if run_images.is_empty() {
            run_images.extend(metadata.stack.and_then(|s| s.run_image));
        }
        run_images.retain(|r| !r.image.is_empty());
        Ok(BuilderLabels {
            buildpacks: metadata.buildpacks,
            order,
            order_extensions,
            run_images,
            lifecycle: metadata.lifecycle,
            stack_id: text("io.buildpacks.stack.id").map(str::to_string),
        })
    }
}

/// pack writes `null` for an empty list in places (Go's nil slices).
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// The version of skaffold-filesync the builder carries, if any (in its
/// buildpack list or its buildpack layers).
fn filesync_version(
    buildpacks: &[BuildpackRef],
    layers: &BTreeMap<String, BTreeMap<String, Value>>,
) -> Option<String> {
    buildpacks
        .iter()
        .find(|b| b.id == BUILDPACK_ID)
        .map(|b| b.version.clone())
        .or_else(|| {
            layers
                .get(BUILDPACK_ID)
                .map(|v| v.keys().cloned().collect::<Vec<_>>().join(", "))
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A config shaped like that of a builder `pack builder create` made
    /// from Paketo-shaped composites (with the `null` lists pack writes).
    pub(crate) fn stock_config() -> Value {
        let metadata = json!({
            "description": "stock",
            "buildpacks": [{"id": "e2e/nodejs", "version": "1.0.0"}, {"id": "e2e/node", "version": "0.1.0"}],
            "images": [{"image": "127.0.0.1:5000/stack/run-base:latest"}],
            "stack": {"runImage": {"image": "127.0.0.1:5000/stack/run-base:latest", "mirrors": null}},
            "lifecycle": {"version": "0.21.17",
                "api": {"buildpack": "0.7", "platform": "0.7"},
                "apis": {"buildpack": {"deprecated": [], "supported": ["0.7", "0.8", "0.9", "0.10"]},
                         "platform": {"deprecated": null, "supported": ["0.7", "0.8", "0.9", "0.15"]}}},
            "createdBy": {"name": "Pack CLI", "version": "0.40.6"}
        });
        let order = json!([
            {"group": [{"id": "e2e/nodejs", "version": "1.0.0"}]},
            {"group": [{"id": "e2e/procfile-composite", "version": "1.0.0", "optional": true}]}
        ]);
        json!({"config": {"Labels": {
            METADATA: metadata.to_string(),
            ORDER: order.to_string(),
            LAYERS: json!({"e2e/nodejs": {"1.0.0": {"api": "0.7"}}}).to_string(),
            "io.buildpacks.stack.id": "io.buildpacks.stacks.jammy",
        }}})
    }

    #[test]
    fn a_stock_builder_reads_order_run_images_and_lifecycle() {
        let b = BuilderLabels::from_config("stock", "registry", &stock_config()).unwrap();
        assert_eq!(b.order.len(), 2);
        assert!(b.order[1].group[0].optional);
        assert_eq!(
            b.run_images,
            [RunImage {
                image: "127.0.0.1:5000/stack/run-base:latest".into(),
                mirrors: vec![]
            }]
        );
        assert_eq!(b.lifecycle.version, "0.21.17");
        assert_eq!(
            b.lifecycle.api_sets().platform.supported,
            ["0.7", "0.8", "0.9", "0.15"]
        );
        assert_eq!(b.stack_id.as_deref(), Some("io.buildpacks.stacks.jammy"));
    }

    #[test]
    fn an_image_without_builder_metadata_is_not_a_builder() {
        let config = json!({"config": {"Labels": {"io.buildpacks.stack.id": "x"}}});
        let e = BuilderLabels::from_config("127.0.0.1:5000/run:1", "registry r", &config)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("127.0.0.1:5000/run:1 is not a builder image"),
            "{e}"
        );
        assert!(e.contains("io.buildpacks.builder.metadata"), "{e}");
    }

    #[test]
    fn a_builder_with_skaffold_filesync_is_refused_from_either_label() {
        let mut config = stock_config();
        let labels = &mut config["config"]["Labels"];
        labels[LAYERS] = json!({"skaffold-filesync": {"0.1.0": {}}})
            .to_string()
            .into();
        let e = BuilderLabels::from_config("dev", "daemon", &config)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("dev already contains skaffold-filesync 0.1.0"),
            "{e}"
        );
        let mut config = stock_config();
        let mut meta: Value =
            serde_json::from_str(config["config"]["Labels"][METADATA].as_str().unwrap()).unwrap();
        meta["buildpacks"] = json!([{"id": "skaffold-filesync", "version": "0.2.0"}]);
        config["config"]["Labels"][METADATA] = meta.to_string().into();
        let e = BuilderLabels::from_config("dev", "daemon", &config)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("already contains skaffold-filesync 0.2.0"),
            "{e}"
        );
    }

    #[test]
    fn malformed_labels_are_named() {
        let mut config = stock_config();
        config["config"]["Labels"][ORDER] = "[{\"group\": 3}]".into();
        let e = BuilderLabels::from_config("b", "daemon", &config)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("malformed io.buildpacks.buildpack.order label"),
            "{e}"
        );
    }
}
