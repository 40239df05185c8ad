package main

import (
	"context"
	"fmt"
	"io"

	"github.com/detflow/detflow/progress"
	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/storage"
)

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", "pipeline report RUN [--out FILE] [--samples N] [--score 0.3] [--iou 0.5] [--workdir DIR]\n\n"+
		"Writes one self-contained HTML page about a run (default WORKDIR/RUN/report.html): its\n"+
		"stages, config changes against the config it started from, metrics and AP per class,\n"+
		"training curves, error analysis, confusion matrix and sample detections, every\n"+
		"picture inline; the error analysis and confusion matrix are also written to\n"+
		"WORKDIR/RUN/analysis/.", stderr)
	out := fs.String("out", "", "the HTML file (default: WORKDIR/RUN/report.html)")
	samples := fs.Int("samples", 6, "images drawn with their detections")
	score := fs.Float64("score", 0.3, "score threshold of the drawn detections and the confusion matrix")
	iou := fs.Float64("iou", 0.5, "IoU threshold of the confusion matrix")
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	prog := fs.String("progress", "auto", "progress bar: auto, always or never")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *samples < 0 {
		return fmt.Errorf("%w: --samples must not be negative", errUsage)
	}
	mode, err := progressMode(*prog)
	if err != nil {
		return err
	}
	fsys, c, r, err := openRun(ctx, *workdir, fs.Args())
	if err != nil {
		return err
	}
	defer fsys.Close()
	bars := newStepBars(progress.NewFactory(stderr, mode))
	defer bars.done()
	file, err := report.WriteHTML(ctx, fsys, c, r, report.HTMLOptions{Out: *out, Samples: *samples, Score: *score, IoU: *iou,
		Progress: bars.update})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, file)
	return nil
}

func cmdAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analyze", "pipeline analyze RUN [--score 0.3] [--iou 0.5] [--out DIR] [--workdir DIR]\n\n"+
		"Writes a run's error analysis (coco_error_analysis' PR curves C75, C50, Loc, Sim, Oth,\n"+
		"BG and FN, of all categories and of each: error_analysis_*.png) and its confusion\n"+
		"matrix (confusion_matrix.png and .parquet) into WORKDIR/RUN/analysis/.", stderr)
	score := fs.Float64("score", 0.3, "score threshold of the confusion matrix")
	iou := fs.Float64("iou", 0.5, "IoU threshold of the confusion matrix")
	out := fs.String("out", "", "folder for the files (default: WORKDIR/RUN/analysis)")
	workdir := fs.String("workdir", "runs", "work directory (local path or gs://bucket/dir)")
	prog := fs.String("progress", "auto", "progress bar: auto, always or never")
	if err := parse(fs, args); err != nil {
		return err
	}
	mode, err := progressMode(*prog)
	if err != nil {
		return err
	}
	fsys, _, r, err := openRun(ctx, *workdir, fs.Args())
	if err != nil {
		return err
	}
	defer fsys.Close()
	d, err := report.LoadEvalData(ctx, fsys, r, "val", true)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = storage.Join(r.Dir, report.AnalysisDir)
	}
	bars := newStepBars(progress.NewFactory(stderr, mode))
	defer bars.done()
	files, err := report.WriteAnalysis(ctx, fsys, d, dir, report.AnalysisOptions{Score: *score, IoU: *iou,
		Progress: func(done, total int) { bars.update("error analysis", done, total) }})
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, f)
	}
	return nil
}

// stepBars shows one progress bar per named step, each started when the
// step first reports and finished when the next one starts.
type stepBars struct {
	f    *progress.Factory
	name string
	bar  *progress.Bar
}

func newStepBars(f *progress.Factory) *stepBars { return &stepBars{f: f} }

func (s *stepBars) update(step string, done, total int) {
	if s.bar == nil || s.name != step {
		s.done()
		s.name, s.bar = step, s.f.New(step, total)
	}
	s.bar.Set(done)
}

func (s *stepBars) done() {
	if s.bar != nil {
		s.bar.Done()
		s.bar = nil
	}
}

// progressMode parses --progress, a usage error when it is off.
func progressMode(s string) (progress.Mode, error) {
	mode, err := progress.ParseMode(s)
	if err != nil {
		return mode, fmt.Errorf("%w: %v", errUsage, err)
	}
	return mode, nil
}
