package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/zoo"
)

// TestZooSectionOfTwoModelTypes: Fast R-CNN's section holds the box-only
// and the mask model types, as MODEL_ZOO.md's Type column says (Faster /
// Mask); a box-only row prints a dash for mask AP.
func TestZooSectionOfTwoModelTypes(t *testing.T) {
	fast, _ := zoo.LookupModel(zoo.ModelFastRCNN)
	mask, _ := zoo.LookupModel(zoo.ModelFastMaskRCNN)
	v := func(x float64) *float64 { return &x }
	entries := []report.ZooEntry{
		{Run: "fast", Model: fast.Title, Kind: fast.Kind, Backbone: "R-50-FPN", Style: "pytorch", Schedule: "1x",
			Columns: fast.Figures, Figures: []*float64{v(35.8)}},
		{Run: "fast_mask", Model: mask.Title, Kind: mask.Kind, Backbone: "R-50-FPN", Style: "pytorch", Schedule: "2x",
			Columns: mask.Figures, Figures: []*float64{v(37.9), v(34.8)}},
	}
	var b bytes.Buffer
	if err := report.WriteZoo(&b, entries); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"### Fast R-CNN\n",
		"| Backbone | Type   | Style   | Lr schd |",
		"| box AP | mask AP | Run       |",
		"| R-50-FPN | Faster | pytorch | 1x      | -        | -                   | -              | 35.8   | -       | fast      |",
		"| R-50-FPN | Mask   | pytorch | 2x      | -        | -                   | -              | 37.9   | 34.8    | fast_mask |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("zoo table lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "###") != 1 {
		t.Errorf("want one section:\n%s", got)
	}
}
