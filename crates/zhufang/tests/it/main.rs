//! Integration tests: the real app on port 0 against a fresh database —
//! SQLite by default, PostgreSQL when `ZHUFANG_TEST_PG` is set (a URL such
//! as postgres://postgres@127.0.0.1:5432/test; each test gets its own
//! database). One test binary for the crate.

mod admin;
mod auth;
mod cli;
mod disputes;
mod duty;
mod grids;
mod harness;
mod hazards;
mod incidents;
mod map;
mod props;
mod story;
mod volunteers;
