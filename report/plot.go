package report

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// Plot sizes: wide enough for a few thousand steps to read as a curve.
const (
	plotWidth  = 8 * vg.Inch
	plotHeight = 5 * vg.Inch
)

// maxMarkedPoints is the longest curve drawn with a marker at each point.
const maxMarkedPoints = 60

// PlotFiles are the PNG files WritePlots writes.
const (
	LossPlot = "loss.png"
	MAPPlot  = "mAP.png"
)

// WritePlots draws a run's training curves as PNG files in dir: loss.png
// (the total loss and each named loss against the iteration) from its
// train_log table, and mAP.png (bbox mAP, AP50 and AP75 against the epoch)
// when the run evaluated two checkpoints or more. It returns the paths
// written.
func WritePlots(ctx context.Context, fsys *storage.FS, run string, log []schemas.TrainLogRow, metrics []schemas.Metric, dir string) ([]string, error) {
	if len(log) == 0 {
		return nil, fmt.Errorf("run %q has no train_log rows: loss curves need a published train stage", run)
	}
	var written []string
	loss, err := lossPlot(run, log)
	if err != nil {
		return nil, err
	}
	p := storage.Join(dir, LossPlot)
	if err := savePNG(ctx, fsys, loss, p); err != nil {
		return nil, err
	}
	written = append(written, p)
	mAP, err := mAPPlot(run, metrics)
	if err != nil {
		return nil, err
	}
	if mAP != nil {
		p := storage.Join(dir, MAPPlot)
		if err := savePNG(ctx, fsys, mAP, p); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	return written, nil
}

// curve is one named series of a plot.
type curve struct {
	name string
	xys  plotter.XYs
}

// lossCurves are the total loss and each named loss against the global
// step, in the order the log first names them: every name the model
// returned gets a curve, whatever it is called.
func lossCurves(log []schemas.TrainLogRow) []curve {
	rows := append([]schemas.TrainLogRow(nil), log...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Step < rows[j].Step })
	curves := []curve{{name: "loss", xys: make(plotter.XYs, len(rows))}}
	at := map[string]int{} // curve index by name
	for i, r := range rows {
		curves[0].xys[i] = plotter.XY{X: float64(r.Step), Y: r.Loss}
		for _, l := range r.Losses {
			k, ok := at[l.Name]
			if !ok {
				k = len(curves)
				at[l.Name] = k
				curves = append(curves, curve{name: l.Name})
			}
			curves[k].xys = append(curves[k].xys, plotter.XY{X: float64(r.Step), Y: l.Value})
		}
	}
	return curves
}

// lossPlot draws lossCurves.
func lossPlot(run string, log []schemas.TrainLogRow) (*plot.Plot, error) {
	curves := lossCurves(log)
	p := plot.New()
	p.Title.Text = "training loss, run " + run
	p.X.Label.Text = "iteration"
	p.Y.Label.Text = "loss"
	p.Add(plotter.NewGrid())
	var lines []any
	for _, c := range curves {
		lines = append(lines, c.name, c.xys)
	}
	add := plotutil.AddLinePoints
	if len(curves[0].xys) > maxMarkedPoints {
		add = plotutil.AddLines // markers would blot out a long curve
	}
	if err := add(p, lines...); err != nil {
		return nil, fmt.Errorf("plot losses of run %s: %w", run, err)
	}
	p.Legend.Top = true
	return p, nil
}

// epochOf reads the epoch from a checkpoint name such as
// epoch_12.safetensors, as the train stage names them.
var epochOf = regexp.MustCompile(`epoch_(\d+)`)

// mAPPlot draws bbox AP against the epoch of the checkpoint evaluated; nil
// when fewer than two epochs were evaluated.
func mAPPlot(run string, metrics []schemas.Metric) (*plot.Plot, error) {
	series := map[string]map[int]float64{}
	epochs := map[int]bool{}
	for _, m := range metrics {
		if m.IoUType != "bbox" || !isEvalSplit(m) {
			continue
		}
		if m.Metric != "bbox_mAP" && m.Metric != "bbox_mAP_50" && m.Metric != "bbox_mAP_75" {
			continue
		}
		sub := epochOf.FindStringSubmatch(m.Checkpoint)
		if sub == nil {
			continue
		}
		ep, err := strconv.Atoi(sub[1])
		if err != nil {
			continue
		}
		if series[m.Metric] == nil {
			series[m.Metric] = map[int]float64{}
		}
		series[m.Metric][ep] = m.Value // later rows for the same epoch win
		epochs[ep] = true
	}
	if len(epochs) < 2 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "bbox AP, run " + run
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "AP"
	p.Add(plotter.NewGrid())
	var lines []any
	for _, name := range []string{"bbox_mAP", "bbox_mAP_50", "bbox_mAP_75"} {
		s := series[name]
		if len(s) == 0 {
			continue
		}
		eps := make([]int, 0, len(s))
		for ep := range s {
			eps = append(eps, ep)
		}
		sort.Ints(eps)
		xys := make(plotter.XYs, len(eps))
		for i, ep := range eps {
			xys[i] = plotter.XY{X: float64(ep), Y: s[ep]}
		}
		lines = append(lines, name, xys)
	}
	if err := plotutil.AddLinePoints(p, lines...); err != nil {
		return nil, fmt.Errorf("plot mAP of run %s: %w", run, err)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	return p, nil
}

func savePNG(ctx context.Context, fsys *storage.FS, p *plot.Plot, path string) error {
	b, err := renderPNG(p, path)
	if err != nil {
		return err
	}
	if _, err := fsys.WriteFile(ctx, path, b); err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	return nil
}
