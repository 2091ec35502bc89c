//! The zhufang domain: parsed value types, the generic workflow engine, the
//! working-day calendar, the task rules and the audit hash chain.
//!
//! Nothing in this crate does IO: storage and HTTP live in other crates and
//! call in here for every decision.

pub mod audit;
pub mod calendar;
pub mod dispute;
pub mod duty;
pub mod geojson;
pub mod grid;
pub mod hazard;
pub mod ics;
pub mod incident;
pub mod incident_import;
pub mod notice;
pub mod period;
pub mod role;
pub mod task;
pub mod types;
pub mod volunteer;
pub mod workflow;

pub use role::Role;
pub use types::{IdNumber, OrgCode, PhoneNumber, Username, ValueError, Wgs84Point};
