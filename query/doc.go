// Package query runs SQL over every run of a work directory with an
// embedded DuckDB, the engine users already query Parquet with.
//
// The views a query sees:
//
//	runs       one row per run folder, from run.json: run, pipeline, config,
//	           created, updated
//	stages     one row per published stage, from its _MANIFEST.json: run,
//	           stage, version, fingerprint, started, finished, seconds,
//	           outputs (files), bytes
//	metrics    the union of every run's tables of that name (found by their
//	train_log  detflow.table metadata, or the file name when it is absent),
//	detections with a leading run column naming the run folder
//	proposals
//
// DuckDB needs cgo, and the default detflow build is cgo-free (Beam builds
// worker binaries with CGO_ENABLED=0), so the engine is behind the cgo build
// tag: without it Run returns ErrNeedsCGO. The view definitions (setup.go)
// are plain Go and tested in both builds. Only the CLI imports this package.
//
// Tables of gs:// work directories are first copied to a temporary folder
// through package storage, so the engine only ever reads local files and
// needs no network extension.
package query
