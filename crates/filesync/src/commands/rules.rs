//! `filesync rules APP_DIR`: what the rule engine decides for an app — the
//! family, the reload action, the Skaffold sync rules, and which of the
//! app's files a change would sync (and where) or send to a rebuild.

use anyhow::Context;
use filesync_contract::settings;
use filesync_rules::manifests::is_excluded_dir;
use filesync_rules::{family, plan_for_app, Plan, ReloadAction};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::ValueEnum, Clone, Copy, Default)]
pub(crate) enum Format {
    /// Human-readable summary.
    #[default]
    Text,
    Json,
    Yaml,
    /// A `sync: manual:` block for skaffold.yaml.
    Skaffold,
}

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The application directory (the artifact's context).
    pub app_dir: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Where the app lives in the image (the buildpack's app dir).
    #[arg(long, default_value = "/workspace")]
    pub dest: String,
}

#[derive(Serialize)]
struct Report<'a> {
    family: &'a str,
    variant: &'a str,
    action: &'a ReloadAction,
    rules: &'a [filesync_rules::SyncRule],
    synced: Vec<Synced>,
    rebuild: Vec<String>,
}

#[derive(Serialize)]
struct Synced {
    path: String,
    dest: String,
}

// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let app = &args.app_dir;
    anyhow::ensure!(app.is_dir(), "{} is not a directory", app.display());
    // The same variables the buildpack reads, so a user can preview them.
    let overrides = settings::overrides(|k| std::env::var(k).ok())?;
    let plan = plan_for_app(app, &args.dest, &overrides).map_err(settings::no_family)?;
    let variant = family::variant(app, plan.family);
    let (synced, rebuild) = classify(app, &plan)?;
    let report = Report {
        family: plan.family.name(),
        variant,
        action: &plan.action,
        rules: &plan.rules,
        synced,
        rebuild,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Yaml => print!("{}", yaml(&report)),
        Format::Skaffold => print!("{}", skaffold_block(&plan)),
        Format::Text => print!("{}", text(app, &report)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Splits the app's files into synced (with destination) and rebuild.
/// Excluded directories are reported once (`node_modules/`), not walked.
fn classify(app: &Path, plan: &Plan) -> anyhow::Result<(Vec<Synced>, Vec<String>)> {
    let mut files = Vec::new();
    list_files(app, "", &mut files)?;
    files.sort();
    let mut synced = Vec::new();
    let mut rebuild = Vec::new();
    for rel in files {
        if rel.ends_with('/') {
            rebuild.push(rel);
            continue;
        }
        let dest = if plan.ignores(&rel) {
            None
        } else {
            plan.rules
                .iter()
                .find_map(|r| r.destination(&rel, &plan.app_dir).ok().flatten())
        };
        match dest {
            Some(dest) => synced.push(Synced { path: rel, dest }),
            None => rebuild.push(rel),
        }
    }
    Ok((synced, rebuild))
}

fn list_files(dir: &Path, rel: &str, out: &mut Vec<String>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let ft = entry.file_type()?;
        if ft.is_dir() {
            if is_excluded_dir(&name) {
                out.push(format!("{child}/"));
            } else {
                list_files(&entry.path(), &child, out)?;
            }
        } else {
            out.push(child);
        }
    }
    Ok(())
}

fn action_text(action: &ReloadAction) -> String {
    match action {
        ReloadAction::None => "none (files are served as they are)".to_string(),
        ReloadAction::Restart => "restart the app".to_string(),
        ReloadAction::Rebuild { command } => {
            format!("rebuild with `{}`, then restart", command.join(" "))
        }
    }
}

fn text(app: &Path, r: &Report) -> String {
    let mut s = format!(
        "app:     {}\nfamily:  {} ({})\nreload:  {}\n\nsync rules ({}):\n",
        app.display(),
        r.family,
        r.variant,
        action_text(r.action),
        r.rules.len()
    );
    for rule in r.rules {
        if !rule.about.is_empty() {
            s += &format!("  # {}\n", rule.about);
        }
        s += &format!("  {}  ->  {}\n", rule.src, rule.dest);
    }
    s += &format!("\nsynced on change ({}):\n", r.synced.len());
    for f in &r.synced {
        s += &format!("  {}  ->  {}\n", f.path, f.dest);
    }
    s += &format!("\nrebuild the image on change ({}):\n", r.rebuild.len());
    for f in &r.rebuild {
        s += &format!("  {f}\n");
    }
    s
}

/// YAML scalars quoted the safe way: JSON strings are valid YAML.
fn q(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn yaml(r: &Report) -> String {
    let mut s = format!("family: {}\nvariant: {}\n", q(r.family), q(r.variant));
    match r.action {
        ReloadAction::Rebuild { command } => {
            s += "action:\n  kind: rebuild\n  command:\n";
            for c in command {
                s += &format!("  - {}\n", q(c));
            }
        }
        ReloadAction::Restart => s += "action:\n  kind: restart\n",
        ReloadAction::None => s += "action:\n  kind: none\n",
    }
    s += "rules:\n";
    for rule in r.rules {
        s += &format!("- src: {}\n  dest: {}\n", q(&rule.src), q(&rule.dest));
    }
    s += "synced:\n";
    for f in &r.synced {
        s += &format!("- path: {}\n  dest: {}\n", q(&f.path), q(&f.dest));
    }
    s += "rebuild:\n";
    for f in &r.rebuild {
        s += &format!("- {}\n", q(f));
    }
    s
}

fn skaffold_block(plan: &Plan) -> String {
    let mut s = "sync:\n  manual:\n".to_string();
    for rule in &plan.rules {
        if !rule.about.is_empty() {
            s += &format!("  # {}\n", rule.about);
        }
        s += &format!("  - src: {}\n    dest: {}\n", q(&rule.src), q(&rule.dest));
    }
    s
}
