// Package report turns the Parquet tables of the runs in a work directory into
// what users read: COCO summaries of one run, runs side by side, a table in
// the layout of MMDetection's MODEL_ZOO.md, and PNG plots of training curves.
//
// Everything here is cgo-free: tables are read with parquet-go through
// schemas.Read, so `pipeline metrics`, `compare`, `zoo` and `plot` work in the
// default build. SQL over the same tables lives in package query, which needs
// DuckDB and so cgo.
//
// A work directory holds one folder per run (runs/<run>/run.json); each
// published stage folder has a _MANIFEST.json listing its outputs. Scan reads
// those and, for every Parquet output, the table name and schema version in
// its key-value metadata (detflow.table, detflow.schema_version). Only files a
// manifest lists are seen, so half-written stage outputs never are.
package report
