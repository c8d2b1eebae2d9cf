//! End-to-end tests of the `earmark` binary on the real-music fixtures in testdata/.
//! One binary, one module per feature; each test works in its own temporary directory.

mod answers;
mod common;
mod crash;
mod dataset;
mod eval;
mod index;
mod isolation;
mod lying_headers;
mod parquet;
mod provenance;
mod readme;
mod repeats;
mod report;
mod resume;
mod safety;
mod scan;
mod stress;
mod tolerance;
