package report

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"image/png"
	"regexp"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/detflow/detflow/analysis"
	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/pictures"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// Files of a run's analysis folder.
const (
	AnalysisDir     = "analysis"
	ConfusionPNG    = "confusion_matrix.png"
	ConfusionTable  = "confusion_matrix.parquet"
	errorPlotPrefix = "error_analysis_"
)

// AnalysisOptions are the thresholds of the confusion matrix.
type AnalysisOptions struct {
	Score float64 // detections scoring below it are left out
	IoU   float64 // a detection is on an object from this IoU on
	// Progress, if not nil, is called as categories are analysed.
	Progress func(done, total int)
}

// WriteAnalysis writes into dir the error analysis of each of d's bbox and
// segm detections (error_analysis_all.png and error_analysis_<category>.png
// for bbox, segm_error_analysis_... for masks) and the bbox confusion
// matrix (confusion_matrix.png and .parquet). It returns the paths written.
func WriteAnalysis(ctx context.Context, fsys *storage.FS, d *EvalData, dir string, opt AnalysisOptions) ([]string, error) {
	var written []string
	for _, t := range []coco.IoUType{coco.BBox, coco.Segm} {
		dets, ok := d.Dets[t]
		if !ok {
			continue
		}
		ec, err := analysis.AnalyzeErrors(ctx, d.GT, dets, t, opt.Progress)
		if err != nil {
			return nil, fmt.Errorf("run %q: %w", d.Run, err)
		}
		files, err := writeErrorPlots(ctx, fsys, ec, dir)
		if err != nil {
			return nil, err
		}
		written = append(written, files...)
	}
	dets, ok := d.Dets[coco.BBox]
	if !ok {
		return written, nil
	}
	cm, err := analysis.ConfusionMatrix(d.GT, dets, opt.Score, opt.IoU)
	if err != nil {
		return nil, fmt.Errorf("run %q: %w", d.Run, err)
	}
	files, err := writeConfusion(ctx, fsys, d.Run, cm, dir)
	if err != nil {
		return nil, err
	}
	return append(written, files...), nil
}

// ErrorPlotName is the file of an error analysis plot: of all categories
// (category "") or of one.
func ErrorPlotName(t coco.IoUType, category string) string {
	prefix := errorPlotPrefix
	if t != coco.BBox {
		prefix = string(t) + "_" + prefix
	}
	if category == "" {
		return prefix + "all.png"
	}
	return prefix + fileSafe(category) + ".png"
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileSafe turns a category name ("traffic light") into a file name part.
func fileSafe(s string) string { return strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_") }

// writeErrorPlots draws the curves of all categories, then of each.
func writeErrorPlots(ctx context.Context, fsys *storage.FS, ec *analysis.ErrorCurves, dir string) ([]string, error) {
	var written []string
	write := func(name, title string, curve func(kind, a int) []float64) error {
		b, err := errorPlotPNG(ec, title, curve)
		if err != nil {
			return err
		}
		p := storage.Join(dir, name)
		if _, err := fsys.WriteFile(ctx, p, b); err != nil {
			return fmt.Errorf("write error analysis: %w", err)
		}
		written = append(written, p)
		return nil
	}
	if err := write(ErrorPlotName(ec.IoUType, ""), "all categories", ec.Mean); err != nil {
		return nil, err
	}
	for k, c := range ec.Categories {
		curve := func(kind, a int) []float64 { return ec.Precision[kind][k][a] }
		if err := write(ErrorPlotName(ec.IoUType, c.Name), c.Name, curve); err != nil {
			return nil, err
		}
	}
	return written, nil
}

// errorKindColours fill the band each error kind adds, from the strictest
// (C75, darkest) to forgiving everything (FN).
var errorKindColours = [analysis.NumKinds]color.RGBA{
	{37, 52, 148, 255}, {44, 127, 184, 255}, {65, 182, 196, 255}, {161, 218, 180, 255},
	{254, 224, 139, 255}, {252, 141, 89, 255}, {215, 48, 39, 255},
}

// Error analysis plots: one panel per area range, side by side.
const (
	errorPanelWidth  = 4 * vg.Inch
	errorPanelHeight = 3.6 * vg.Inch
)

// errorPlotPNG draws one PNG with a panel per area range: each kind's
// curve, the band between it and the previous one filled, the legend
// giving each curve's AP.
func errorPlotPNG(ec *analysis.ErrorCurves, title string, curve func(kind, a int) []float64) ([]byte, error) {
	A := len(ec.Areas)
	img := vgimg.New(vg.Length(A)*errorPanelWidth, errorPanelHeight)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: A, PadX: vg.Millimeter, PadY: vg.Millimeter}
	plots := [][]*plot.Plot{make([]*plot.Plot, A)}
	for a, area := range ec.Areas {
		p, err := errorPanel(ec, fmt.Sprintf("%s %s, %s", ec.IoUType, title, area), func(kind int) []float64 { return curve(kind, a) })
		if err != nil {
			return nil, err
		}
		plots[0][a] = p
	}
	canvases := plot.Align(plots, tiles, dc)
	for a := range ec.Areas {
		plots[0][a].Draw(canvases[0][a])
	}
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("render error analysis of %s: %w", title, err)
	}
	return b.Bytes(), nil
}

// errorPanel is one area range's plot.
func errorPanel(ec *analysis.ErrorCurves, title string, curve func(kind int) []float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "recall"
	p.Y.Label.Text = "precision"
	// Room above precision 1 for the legend, which would hide the bands.
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1.6
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 0.5, Label: "0.5"}, {Value: 1, Label: "1"}})
	// The most forgiving curve is drawn first, so every band stays visible.
	for kind := analysis.NumKinds - 1; kind >= 0; kind-- {
		c := curve(kind)
		band := make(plotter.XYs, 0, 2*len(c)+2)
		for r, x := range ec.Recall {
			band = append(band, plotter.XY{X: x, Y: c[r]})
		}
		for r := len(ec.Recall) - 1; r >= 0; r-- {
			band = append(band, plotter.XY{X: ec.Recall[r], Y: 0})
		}
		poly, err := plotter.NewPolygon(band)
		if err != nil {
			return nil, fmt.Errorf("plot %s %s: %w", title, analysis.KindNames[kind], err)
		}
		poly.Color = errorKindColours[kind]
		poly.LineStyle.Width = vg.Points(0.5)
		poly.LineStyle.Color = color.Black
		p.Add(poly)
		p.Legend.Add(fmt.Sprintf("[%.3f] %s", analysis.AP(c), analysis.KindNames[kind]), poly)
	}
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.XOffs = -vg.Millimeter
	return p, nil
}

// writeConfusion writes the matrix as a PNG (counts, shaded by each row's
// share) and as a Parquet table.
func writeConfusion(ctx context.Context, fsys *storage.FS, run string, cm *analysis.Confusion, dir string) ([]string, error) {
	norm := cm.Normalised()
	text := make([][]string, len(cm.Counts))
	for i, row := range cm.Counts {
		text[i] = make([]string, len(row))
		for j, n := range row {
			text[i][j] = fmt.Sprint(n)
		}
	}
	labels := cm.Labels()
	img, err := pictures.Matrix{
		Title:     fmt.Sprintf("confusion matrix, run %s: score >= %.2f, IoU >= %.2f; shade: share of the row", run, cm.ScoreThr, cm.IoUThr),
		RowTitle:  "ground truth",
		ColTitle:  "prediction",
		RowLabels: labels, ColLabels: labels, Shade: norm, Text: text,
	}.Draw()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("encode confusion matrix: %w", err)
	}
	pngPath, tablePath := storage.Join(dir, ConfusionPNG), storage.Join(dir, ConfusionTable)
	if _, err := fsys.WriteFile(ctx, pngPath, b.Bytes()); err != nil {
		return nil, fmt.Errorf("write confusion matrix: %w", err)
	}
	if err := schemas.Write(ctx, fsys, tablePath, schemas.ConfusionMatrix, confusionRows(run, cm, norm)); err != nil {
		return nil, err
	}
	return []string{pngPath, tablePath}, nil
}

// confusionRows flattens the matrix, background as id -1.
func confusionRows(run string, cm *analysis.Confusion, norm [][]float64) []schemas.ConfusionCell {
	ids := make([]int64, 0, len(cm.Categories)+1)
	for _, c := range cm.Categories {
		ids = append(ids, c.ID)
	}
	ids = append(ids, -1)
	labels := cm.Labels()
	var rows []schemas.ConfusionCell
	for i, row := range cm.Counts {
		for j, n := range row {
			rows = append(rows, schemas.ConfusionCell{Run: run, IoUType: string(coco.BBox),
				ScoreThreshold: cm.ScoreThr, IoUThreshold: cm.IoUThr,
				GroundTruthID: ids[i], GroundTruth: labels[i], PredictedID: ids[j], Predicted: labels[j],
				Count: n, FractionOfGroundTruth: norm[i][j]})
		}
	}
	return rows
}
