// Package report turns the Parquet tables of the runs in a work directory into
// what users read: COCO summaries of one run, runs side by side, a table in
// the layout of MMDetection's MODEL_ZOO.md, and PNG plots of training curves.
//
// It also draws a run's output: Show puts the ground truth beside the
// detections of chosen images (package pictures draws them), WriteAnalysis
// writes the error analysis and confusion matrix of package analysis into
// the run's analysis/ folder, and WriteHTML writes one self-contained HTML
// report. Those read the dataset stage's dataset.json and instances file,
// the images, and the evaluate stage's results.<iou type>.json files
// (EvalData).
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
