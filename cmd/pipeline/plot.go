package main

import (
	"context"
	"fmt"
	"io"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/storage"
)

func cmdPlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot", "pipeline plot RUN [--out DIR] [--workdir DIR]\n\n"+
		"Draws a run's training curves to PNG: loss.png (the total loss and each loss\n"+
		"against the iteration, from its train_log table) and mAP.png (bbox AP against\n"+
		"the epoch) when two checkpoints or more were evaluated.", stderr)
	out := fs.String("out", "", "folder for the PNG files (default: WORKDIR/RUN/plots)")
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	if err := parse(fs, args); err != nil {
		return err
	}
	fsys, c, r, err := openRun(ctx, *workdir, fs.Args())
	if err != nil {
		return err
	}
	defer fsys.Close()
	log, err := report.ReadTrainLog(ctx, fsys, c, r.Name)
	if err != nil {
		return err
	}
	metrics, err := report.ReadMetrics(ctx, fsys, c, r.Name)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = storage.Join(r.Dir, "plots")
	}
	files, err := report.WritePlots(ctx, fsys, r.Name, log, metrics, dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, f)
	}
	return nil
}
