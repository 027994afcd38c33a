//! citypeers: peer-consultant matching for municipal practitioners.
//!
//! Module map (each module's own `//!` line says what it owns):
//! - `domain`: records and values that can only be built valid; no I/O.
//! - `text`: language analysis (tokens, stems, folding, language detection).
//! - `locale`: the six interface languages, negotiation and writing direction.
//! - `vocab`: the taxonomy, regions and topic matcher read from `index/`.
//! - `store`: the only code that knows sled; the source of truth.
//! - `search`: the only code that knows tantivy indexes; schema, writer, reader, queries.
//! - `in_two`: one request's work shared between the calling thread and a second core.
//! - `matching`: pure ranking of candidates for a request; no I/O.
//! - `reading`: what a text is about: vocabulary, learned associations and corpus feedback combined.
//! - `curation`: staff use cases: import, export, duplicates, merge, audit.
//! - `wire`: the contract's JSON representation of records.
//! - `app`: the service that ties store, search and matching together.
//! - `http`: the only code that knows axum: routes, handlers, errors to status codes.
//! - `web`: the HTML pages and the embeddable widget.
//! - `cli`: the command line (`citypeers serve`, `import`, …).

pub mod app;
pub mod cli;
pub mod curation;
pub mod domain;
pub mod evaluation;
pub mod generate;
pub mod http;
pub mod in_two;
pub mod locale;
pub mod matching;
pub mod reading;
pub mod search;
pub mod store;
pub mod text;
pub mod vocab;
pub mod web;
pub mod wire;
