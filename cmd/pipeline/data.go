package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/detflow/detflow/progress"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/storage"
)

func cmdData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "synth" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stderr, "Usage: pipeline data synth --out DIR [--train N] [--val M] [--seed S]")
			return nil
		}
		return fmt.Errorf("%w: want: pipeline data synth --out DIR [--train N] [--val M] [--seed S]", errUsage)
	}
	fs := newFlags("data synth", "pipeline data synth --out DIR [--train N] [--val M] [--seed S]\n\n"+
		"Writes the built-in synthetic COCO-format detection set: DIR/train/*.jpg, DIR/val/*.jpg and\n"+
		"DIR/annotations/instances_{train,val}.json. The same seed gives byte-identical files.", stderr)
	out := fs.String("out", "", "output folder (local path or gs://bucket/dir)")
	train := fs.Int("train", 200, "training images")
	val := fs.Int("val", 50, "validation images")
	seed := fs.Int64("seed", 1, "random seed")
	width := fs.Int("width", 320, "image width")
	height := fs.Int("height", 240, "image height")
	prog := fs.String("progress", "auto", "progress bar: auto, always or never")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: want --out DIR", errUsage)
	}
	mode, err := progressMode(*prog)
	if err != nil {
		return err
	}
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		return err
	}
	defer fsys.Close()
	bar := progress.NewFactory(os.Stderr, mode).New("synth images", *train+*val)
	rep, err := dataset.Synthesize(ctx, fsys, dataset.SynthOptions{
		Out: *out, Train: *train, Val: *val, Seed: *seed, Width: *width, Height: *height,
		Progress: func(done, total int) { bar.Set(done) },
	})
	bar.Done()
	if err != nil {
		return err
	}
	for _, sp := range rep.Splits {
		fmt.Fprintf(stdout, "%-5s %5d images %6d objects (%d small, %d medium, %d large) %4d crowd regions  %s\n",
			sp.Name, sp.Images, sp.Objects, sp.Small, sp.Medium, sp.Large, sp.Crowds, sp.Annotations)
	}
	return nil
}
