package main

import (
	"context"
	"fmt"
	"io"

	"github.com/detflow/detflow/pipelines"
	"github.com/detflow/detflow/storage"
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "pipeline export RUN --format torchvision|safetensors --out FILE [--workdir DIR]\n\n"+
		"Writes a run's weights (its latest training checkpoint, or model.load_from when it\n"+
		"trained nothing): torchvision, a torch.save'd state dict that torchvision's detector\n"+
		"of the same architecture loads with load_state_dict(strict=True); safetensors,\n"+
		"detflow's (MMDetection v2's) names, model only.", stderr)
	format := fs.String("format", "", "torchvision or safetensors")
	out := fs.String("out", "", "file to write (local path or gs://)")
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one run name, got %d arguments", errUsage, fs.NArg())
	}
	if *format == "" || *out == "" {
		return fmt.Errorf("%w: --format and --out are required", errUsage)
	}
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		return err
	}
	defer fsys.Close()
	dir, name := runArg(*workdir, fs.Arg(0))
	if err := pipelines.Export(ctx, fsys, dir, name, *format, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", *out, *format)
	return nil
}
