//! The runtime half of skaffold-filesync: the supervisor that runs the app's
//! own process and reloads it, the `tar`/`rm` shims Skaffold's sync runs,
//! and the notification channel between them.

pub mod config;
