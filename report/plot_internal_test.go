package report

import (
	"slices"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/detflow/detflow/schemas"
)

// TestLossPlotDrawsEveryLossName: the loss plot has the total and one curve
// per loss name the log holds, names it has never seen included, each with
// the points of the rows that carry it, by step.
func TestLossPlotDrawsEveryLossName(t *testing.T) {
	lv := func(kv ...any) []schemas.LossValue {
		var out []schemas.LossValue
		for i := 0; i < len(kv); i += 2 {
			out = append(out, schemas.LossValue{Name: kv[i].(string), Value: kv[i+1].(float64)})
		}
		return out
	}
	log := []schemas.TrainLogRow{
		{Step: 20, Loss: 1.5, Losses: lv("loss_cls", 0.5, "loss_bbox", 0.25, "loss_mask", 0.75)},
		{Step: 10, Loss: 2, Losses: lv("loss_cls", 1.0, "loss_bbox", 1.0)},
		{Step: 30, Loss: 1, Losses: lv("loss_cls", 0.25, "loss_bbox", 0.25, "loss_mask", 0.5)},
	}
	curves := lossCurves(log)
	var names []string
	for _, c := range curves {
		names = append(names, c.name)
	}
	if want := []string{"loss", "loss_cls", "loss_bbox", "loss_mask"}; !slices.Equal(names, want) {
		t.Fatalf("curves %v, want %v", names, want)
	}
	wantMask := plotter.XYs{{X: 20, Y: 0.75}, {X: 30, Y: 0.5}}
	if !slices.Equal(curves[3].xys, wantMask) {
		t.Errorf("loss_mask points %v, want %v", curves[3].xys, wantMask)
	}
	if len(curves[0].xys) != 3 || curves[0].xys[0].X != 10 {
		t.Errorf("total loss points %v, want three by step", curves[0].xys)
	}
	if _, err := lossPlot("r", log); err != nil {
		t.Fatal(err)
	}
}
