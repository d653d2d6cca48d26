//! What the server does, apart from HTTP: each module is one job (subjects, ingest, reads,
//! audit), called by the routes and by the CLI.

pub mod audit;
pub mod consent;
pub mod ingest;
pub mod payload;
pub mod reads;
pub mod retention;
pub mod subjects;
