package main

import (
	"context"
	"fmt"
	"io"

	"github.com/detflow/detflow/report"
)

func cmdZoo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("zoo", "pipeline zoo [--workdir DIR] [--all]\n\n"+
		"Prints the runs as MMDetection's MODEL_ZOO.md tables (Markdown): backbone, style,\n"+
		"lr schedule, memory (GB), train time (s/iter), inference speed (fps) and the\n"+
		"model type's accuracy (box AP, AR1000 for an RPN), one section per model;\n"+
		"\"-\" where a run has not measured a value. Runs without an accuracy figure\n"+
		"(failed, never evaluated) are left out unless --all.", stderr)
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	all := fs.Bool("all", false, "also list runs without an accuracy figure")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	fsys, c, err := openCatalog(ctx, *workdir)
	if err != nil {
		return err
	}
	defer fsys.Close()
	entries, err := report.ZooEntries(ctx, fsys, c)
	if err != nil {
		return err
	}
	if !*all {
		var hidden int
		if entries, hidden = report.MeasuredOnly(entries); hidden > 0 {
			fmt.Fprintf(stderr, "%d runs without metrics left out (--all lists them)\n", hidden)
		}
	}
	return report.WriteZoo(stdout, entries)
}
