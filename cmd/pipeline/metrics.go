package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

func cmdMetrics(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("metrics", "pipeline metrics [--run R] [--workdir DIR]\n\n"+
		"Prints a run's metrics (the most recently updated run by default): the COCO bbox\n"+
		"summary of each evaluation in pycocotools' layout, proposal recall (AR@100/300/1000),\n"+
		"and training and inference speed and memory.", stderr)
	run := fs.String("run", "", "the run to show (default: the most recently updated)")
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q (name a run with --run)", errUsage, fs.Arg(0))
	}
	fsys, c, err := openCatalog(ctx, *workdir)
	if err != nil {
		return err
	}
	defer fsys.Close()
	r := c.Latest()
	if *run != "" {
		if r, err = c.Run(*run); err != nil {
			return err
		}
	}
	rows, err := report.ReadMetrics(ctx, fsys, c, r.Name)
	if err != nil {
		return err
	}
	return report.WriteSummary(stdout, r, rows)
}

func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", "pipeline compare R1 R2 ... [--workdir DIR] [--format table|csv|json|markdown]\n\n"+
		"Puts runs side by side: one row per metric, one column per run (the latest\n"+
		"evaluation on a validation split); \"-\" where a run lacks a metric.", stderr)
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	format := fs.String("format", "table", "output format: table, csv, json or markdown")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: want one run name or more", errUsage)
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("%w: --format: %v", errUsage, err)
	}
	fsys, c, err := openCatalog(ctx, *workdir)
	if err != nil {
		return err
	}
	defer fsys.Close()
	rows := map[string][]schemas.Metric{}
	for _, name := range fs.Args() {
		if _, err := c.Run(name); err != nil {
			return err
		}
		if rows[name], err = report.ReadMetrics(ctx, fsys, c, name); err != nil {
			return err
		}
	}
	return report.Compare(fs.Args(), rows).Write(stdout, f)
}

// openRun opens the catalog and finds the one run args name, for the
// commands that take RUN. The caller closes the FS.
func openRun(ctx context.Context, workdir string, args []string) (*storage.FS, *report.Catalog, *report.Run, error) {
	if len(args) != 1 {
		return nil, nil, nil, fmt.Errorf("%w: want one run name", errUsage)
	}
	workdir, name := runArg(workdir, args[0])
	fsys, c, err := openCatalog(ctx, workdir)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := c.Run(name)
	if err != nil {
		fsys.Close()
		return nil, nil, nil, err
	}
	return fsys, c, r, nil
}

// runArg reads a RUN argument: a run name in workdir, or the path of a run
// folder (what `pipeline run` prints when it ends, e.g. runs/NAME or
// gs://bucket/dir/NAME), which names its work directory too.
func runArg(workdir, arg string) (dir, name string) {
	arg = strings.TrimRight(arg, "/")
	i := strings.LastIndex(arg, "/")
	if i < 0 || strings.HasSuffix(arg[:i+1], "://") {
		return workdir, arg
	}
	return arg[:i], arg[i+1:]
}

// openCatalog opens storage and scans the work directory's runs, for the
// commands that report on them. The caller closes the FS.
func openCatalog(ctx context.Context, workdir string) (*storage.FS, *report.Catalog, error) {
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		return nil, nil, err
	}
	c, err := report.Scan(ctx, fsys, workdir)
	if err != nil {
		fsys.Close()
		return nil, nil, err
	}
	return fsys, c, nil
}
