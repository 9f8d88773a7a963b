//! The builders `filesync builder` derives from the stock builder, made
//! once per test process and checked against the stock one.

use super::invoke::{cnb, filesync_builder, text};
use filesync_e2e::builder::Builders;
use filesync_e2e::stock_builder::{stock_builder, NODEJS};
use filesync_e2e::tools::tool;
use serde_json::Value;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// The builder derived from the stock builder (`--auto` or not), made
/// once per test process and checked against the stock one.
pub(super) fn derived(auto: bool) -> &'static str {
    static PLAIN: OnceLock<String> = OnceLock::new();
    static AUTO: OnceLock<String> = OnceLock::new();
    let cell = if auto { &AUTO } else { &PLAIN };
    cell.get_or_init(|| {
        let stock = stock_builder();
        let name = format!(
            "{}/stock-builder-dev{}:latest",
            Builders::get().registry(),
            if auto { "-auto" } else { "" }
        );
        let cnb = cnb();
        let mut args = vec![stock, name.as_str(), "--publish", "--buildpack", &cnb];
        if auto {
            args.push("--auto");
        }
        let t = Instant::now();
        let out = filesync_builder(&args, None);
        let (stdout, stderr) = text(&out);
        assert!(
            out.status.success(),
            "filesync builder failed:\n{stdout}\n{stderr}"
        );
        eprintln!(
            "filesync builder{}: {:.1?}\n{stdout}",
            if auto { " --auto" } else { "" },
            t.elapsed()
        );
        assert_eq!(
            stdout.lines().last(),
            Some(format!("builder: {name}").as_str()),
            "ends with the line for skaffold.yaml"
        );
        let auto_line = stdout
            .lines()
            .find(|l| l.contains("Skaffold's auto sync:"))
            .unwrap_or_default();
        assert_eq!(auto_line.contains(": yes"), auto, "{stdout}");
        assert!(stdout.contains("generated rules: yes"), "{stdout}");
        if auto {
            assert!(stdout.contains("--auto costs"), "{stdout}");
        }
        check_derived(stock, &name, auto);
        name
    })
}

pub(super) fn config_of(reference: &str) -> Value {
    let out = Command::new(tool("skopeo"))
        .args(["inspect", "--config", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo inspect {reference}");
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(super) fn label(config: &Value, name: &str) -> Value {
    serde_json::from_str(config["config"]["Labels"][name].as_str().unwrap()).unwrap()
}

/// The derived builder has the stock builder's groups, each with
/// skaffold-filesync last and optional, its build user (1001), its
/// lifecycle, and with `--auto` only Platform APIs <= 0.8.
pub(super) fn check_derived(stock: &str, derived: &str, auto: bool) {
    let (s, d) = (config_of(stock), config_of(derived));
    let (s_order, d_order) = (
        label(&s, "io.buildpacks.buildpack.order"),
        label(&d, "io.buildpacks.buildpack.order"),
    );
    let s_groups = s_order.as_array().unwrap();
    let d_groups = d_order.as_array().unwrap();
    assert_eq!(s_groups.len(), d_groups.len(), "{d_order}");
    assert_eq!(s_groups[0]["group"][0]["id"], NODEJS);
    for (sg, dg) in s_groups.iter().zip(d_groups) {
        let (sg, dg) = (
            sg["group"].as_array().unwrap(),
            dg["group"].as_array().unwrap(),
        );
        assert_eq!(&dg[..sg.len()], &sg[..], "the stock group kept: {d_order}");
        assert_eq!(dg.len(), sg.len() + 1);
        assert_eq!(dg[sg.len()]["id"], "skaffold-filesync");
        assert_eq!(dg[sg.len()]["optional"], true);
    }
    let env = |c: &Value| -> Vec<String> {
        c["config"]["Env"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e.as_str())
            .filter(|e| e.starts_with("CNB_USER_ID=") || e.starts_with("CNB_GROUP_ID="))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(env(&d), env(&s), "the build user is kept");
    assert!(env(&d).contains(&"CNB_USER_ID=1001".to_string()));
    let (sm, dm) = (
        label(&s, "io.buildpacks.builder.metadata"),
        label(&d, "io.buildpacks.builder.metadata"),
    );
    assert_eq!(dm["lifecycle"]["version"], sm["lifecycle"]["version"]);
    assert_eq!(dm["images"], sm["images"], "the run images are kept");
    let platform = &dm["lifecycle"]["apis"]["platform"]["supported"];
    if auto {
        assert_eq!(platform, &serde_json::json!(["0.7", "0.8"]));
    } else {
        assert_eq!(platform, &sm["lifecycle"]["apis"]["platform"]["supported"]);
    }
}
