package main

import (
	"context"
	"fmt"
	"io"

	"github.com/detflow/detflow/progress"
	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/storage"
)

const showSynopsis = `pipeline show RUN [--split val] [--images N | --ids ID,...] [--worst N] [--best N]
                [--score 0.3] [--proposals[=N]] [--out DIR] [--workdir DIR]
       pipeline show --data RUN [--split train|val] ...
       pipeline show --data --annotations FILE --image-root DIR --out DIR ...

Draws images as PNG files: the ground truth beside the run's detections (boxes,
class names and scores; masks as translucent overlays when the run wrote segm
results) and, with --proposals, beside its best proposals. --worst/--best pick
the images of lowest/highest COCO AP on their own (as MMDetection's
analyze_results). --data draws the ground truth without detections (with
proposals if asked): of a run's data set, or of a COCO instances file and its
image folder before any run.`

// bestProposals is what --proposals alone draws per image.
const bestProposals = 100

func cmdShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("show", showSynopsis, stderr)
	split := fs.String("split", "val", "the data set split")
	images := fs.Int("images", 8, "draw the first N images (by id)")
	ids := fs.Int64Slice("ids", nil, "draw these image ids")
	worst := fs.Int("worst", 0, "draw the N images of lowest AP")
	best := fs.Int("best", 0, "draw the N images of highest AP")
	score := fs.Float64("score", 0.3, "draw detections scoring at least this")
	props := fs.Int("proposals", 0, fmt.Sprintf("also draw each image's best N proposals (alone: %d)", bestProposals))
	fs.Lookup("proposals").NoOptDefVal = fmt.Sprint(bestProposals)
	data := fs.Bool("data", false, "draw the ground truth alone")
	annotations := fs.String("annotations", "", "with --data and no run: a COCO instances file")
	imageRoot := fs.String("image-root", "", "with --annotations: the folder of its images")
	out := fs.String("out", "", "folder for the PNG files (default: WORKDIR/RUN/pictures)")
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	prog := fs.String("progress", "auto", "progress bar: auto, always or never")
	if err := parse(fs, args); err != nil {
		return err
	}
	opt := report.ShowOptions{Images: *images, IDs: *ids, Worst: *worst, Best: *best, Score: *score,
		GroundTruthOnly: *data, Proposals: *props}
	if err := checkShowFlags(fs.Changed("images"), opt, *annotations, *imageRoot, *out, fs.NArg()); err != nil {
		return err
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
	d, dir, err := showData(ctx, fsys, fs.Args(), *workdir, *split, *annotations, *imageRoot, opt)
	if err != nil {
		return err
	}
	if *out != "" {
		dir = *out
	}
	bars := newStepBars(progress.NewFactory(stderr, mode))
	opt.RankProgress = func(done, total int) { bars.update("rank images by AP", done, total) }
	opt.Progress = func(done, total int) { bars.update("draw images", done, total) }
	pics, err := report.Show(ctx, fsys, d, opt)
	bars.done()
	if err != nil {
		return err
	}
	files, err := report.WritePictures(ctx, fsys, pics, dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, f)
	}
	return nil
}

// checkShowFlags refuses combinations that say two things at once.
func checkShowFlags(imagesSet bool, opt report.ShowOptions, annotations, imageRoot, out string, nargs int) error {
	ranked := opt.Worst > 0 || opt.Best > 0
	switch {
	case annotations != "" && (!opt.GroundTruthOnly || imageRoot == "" || out == "" || nargs != 0):
		return fmt.Errorf("%w: --annotations draws a data set without a run: give --data, --image-root and --out, and no run", errUsage)
	case annotations == "" && nargs != 1:
		return fmt.Errorf("%w: want one run name (or --data --annotations FILE)", errUsage)
	case len(opt.IDs) > 0 && (imagesSet || ranked):
		return fmt.Errorf("%w: --ids names the images: leave out --images, --worst and --best", errUsage)
	case imagesSet && ranked:
		return fmt.Errorf("%w: --worst/--best pick the images: leave out --images", errUsage)
	case opt.GroundTruthOnly && ranked:
		return fmt.Errorf("%w: --data draws no detections: --worst and --best rank images by them", errUsage)
	case annotations != "" && opt.Proposals > 0:
		return fmt.Errorf("%w: --proposals come from a run, not from --annotations", errUsage)
	case opt.Images < 1 || opt.Worst < 0 || opt.Best < 0 || opt.Proposals < 0:
		return fmt.Errorf("%w: --images must be positive, --worst, --best and --proposals not negative", errUsage)
	}
	return nil
}

// showData loads what show draws and the default output folder.
func showData(ctx context.Context, fsys *storage.FS, args []string, workdir, split, annotations, imageRoot string, opt report.ShowOptions) (*report.EvalData, string, error) {
	if annotations != "" {
		gt, err := report.LoadGroundTruth(ctx, fsys, annotations, true)
		if err != nil {
			return nil, "", err
		}
		return &report.EvalData{Run: annotations, Split: split, GT: gt, ImageRoot: imageRoot}, "", nil
	}
	workdir, name := runArg(workdir, args[0])
	c, err := report.Scan(ctx, fsys, workdir)
	if err != nil {
		return nil, "", err
	}
	r, err := c.Run(name)
	if err != nil {
		return nil, "", err
	}
	d, err := report.LoadEvalData(ctx, fsys, r, split, !opt.GroundTruthOnly)
	if err != nil {
		return nil, "", err
	}
	if opt.Proposals > 0 {
		if err := d.LoadProposals(ctx, fsys, c); err != nil {
			return nil, "", err
		}
	}
	return d, storage.Join(r.Dir, "pictures"), nil
}
