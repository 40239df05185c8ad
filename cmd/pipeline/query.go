package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/detflow/detflow/query"
	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/storage"
)

func cmdQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("query", `pipeline query "SQL" [--workdir DIR] [--format table|csv|json|markdown]

Runs SQL (DuckDB's dialect) over every run in the work directory. Views:
  runs        run, pipeline, config, created, updated (from run.json)
  stages      run, stage, version, fingerprint, started, finished, seconds,
              outputs, bytes (from each published stage's manifest)
  metrics     every run's metrics tables, with a run column
  train_log   every run's training logs
  detections  every run's detections tables
  proposals   every run's proposals tables

Example:
  pipeline query "select run, value from metrics where metric = 'bbox_mAP' order by value desc"

Needs a build with cgo (make build-query).`, stderr)
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	format := fs.String("format", "table", "output format: table, csv, json or markdown")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one SQL string, quoted, got %d arguments", errUsage, fs.NArg())
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("%w: --format: %v", errUsage, err)
	}
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		return err
	}
	defer fsys.Close()
	t, err := query.Run(ctx, fsys, *workdir, strings.TrimSpace(fs.Arg(0)))
	if err != nil {
		return err
	}
	return t.Write(stdout, f)
}
