//! crm-notes: a keyboard-first terminal app for customer notes and call logs.
//! The modules are public so the binary, the integration tests and the benchmarks share them.

pub mod app;
pub mod cache;
pub mod cli;
pub mod config;
pub mod demo;
pub mod duration;
pub mod fetch;
pub mod model;
pub mod outbox;
pub mod providers;
pub mod secrets;
pub mod sqlite;
pub mod store;
pub mod text;
pub mod tui;
pub mod ui;
pub mod when;
