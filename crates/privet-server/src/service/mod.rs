//! What the server does, apart from HTTP: each module is one job, written once and called by
//! the routes, the pages and the CLI alike. Services speak the domain: they take domain values
//! and answer with a typed [`error::ServiceError`].

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod backup;
pub mod blocks;
pub mod broker_clients;
pub mod changes;
pub mod consent;
pub mod devices;
pub mod erasure;
pub mod error;
pub mod export;
pub mod export_csv;
pub mod fleet;
pub mod ingest;
pub mod instance_secrets;
pub mod jobs;
pub mod known_clients;
pub mod lineages;
pub mod locks;
pub mod manifests;
pub mod objections;
pub mod permissions;
pub mod publish;
pub mod purge;
pub mod reads;
pub mod releases;
pub mod requests;
pub mod retention;
pub mod retention_cuts;
pub mod rotation;
pub mod sign_in;
pub mod subjects;
pub mod throttle;
pub mod two_step;
pub mod versions;
pub mod visitors;
pub mod webhooks;
