package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/detflow/detflow/pipelines"
	"github.com/detflow/detflow/storage"
)

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", "pipeline status [--run R] [--workdir DIR]\n\nShows the runs in the work directory and, for each stage, what is published.", stderr)
	run := fs.String("run", "", "show only this run")
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		return err
	}
	defer fsys.Close()
	runs, err := pipelines.ListRuns(ctx, fsys, *workdir)
	if err != nil {
		return err
	}
	if *run != "" {
		runs = filterRun(runs, *run)
		if len(runs) == 0 {
			return fmt.Errorf("no run %q in %s", *run, *workdir)
		}
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "no runs in %s yet; start one with: pipeline run fast_rcnn_with_proposals\n", *workdir)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tPIPELINE\tSTAGE\tSTATE\tFINISHED\tTIME")
	for _, r := range runs {
		for _, s := range r.Stages {
			finished, took := "-", "-"
			if s.Manifest != nil {
				finished = s.Manifest.Finished.Local().Format(time.DateTime)
				took = fmt.Sprintf("%.1fs", s.Manifest.Seconds)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Info.Run, r.Info.Pipeline, s.Name, s.State, finished, took)
		}
	}
	return tw.Flush()
}

func filterRun(runs []pipelines.RunStatus, name string) []pipelines.RunStatus {
	for _, r := range runs {
		if r.Info.Run == name {
			return []pipelines.RunStatus{r}
		}
	}
	return nil
}
