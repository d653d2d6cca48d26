//! What the server does, apart from HTTP: each module is one job (subjects, ingest, reads,
//! audit), called by the routes and by the CLI.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod backup;
pub mod consent;
pub mod devices;
pub mod erasure;
pub mod export;
pub mod export_csv;
pub mod ingest;
pub mod payload;
pub mod purge;
pub mod reads;
pub mod releases;
pub mod requests;
pub mod retention;
pub mod subjects;
pub mod throttle;
