//! The java provider's JRE: linked from the host JDK, without a compiler,
//! as Paketo's JRE has none.

use crate::tools::run;
use anyhow::Context;
use std::path::Path;
use std::process::Command;

/// The modules of the provider's JRE: what a JRE distribution such as
/// `BellSoft` Liberica's carries (Java SE and the runtime `jdk.*` modules),
/// without the compiler (`jdk.compiler`) and the development tools. So,
/// as with Paketo's JRE, Maven cannot compile with it ("No compiler is
/// provided in this environment").
pub(super) const JRE_MODULES: &[&str] = &[
    "java.se",
    "jdk.accessibility",
    "jdk.charsets",
    "jdk.crypto.cryptoki",
    "jdk.crypto.ec",
    "jdk.dynalink",
    "jdk.httpserver",
    "jdk.jfr",
    "jdk.jsobject",
    "jdk.localedata",
    "jdk.management",
    "jdk.management.agent",
    "jdk.management.jfr",
    "jdk.naming.dns",
    "jdk.naming.rmi",
    "jdk.net",
    "jdk.nio.mapmode",
    "jdk.sctp",
    "jdk.security.auth",
    "jdk.security.jgss",
    "jdk.unsupported",
    "jdk.xml.dom",
    "jdk.zipfs",
];

/// A JRE of [`JRE_MODULES`] linked with the host JDK's `jlink` into `to`
/// (not yet existing).
pub(super) fn link_jre(java_home: &Path, to: &Path) -> anyhow::Result<()> {
    let jmods = java_home.join("jmods");
    anyhow::ensure!(
        jmods.join("java.base.jmod").is_file(),
        "{} has no jmods: install the JDK's jmods (Debian: openjdk-17-jmods) to link the test JRE",
        java_home.display()
    );
    run(Command::new(java_home.join("bin/jlink"))
        .arg("--module-path")
        .arg(&jmods)
        .arg("--add-modules")
        .arg(JRE_MODULES.join(","))
        .args(["--strip-debug", "--no-header-files", "--no-man-pages"])
        .arg("--output")
        .arg(to))
    .context("linking the test JRE with jlink")?;
    Ok(())
}
