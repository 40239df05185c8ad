package coco

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// golden is what testdata/parity/golden_pycocotools.py recorded from
// pycocotools for one case.
type golden struct {
	Kind          string    `json:"kind"`
	Stats         []float64 `json:"stats"`
	Summary       string    `json:"summary"`
	Recall        []float64 `json:"recall"`
	PrecisionSum  float64   `json:"precision_sum"`
	PerCategoryAP []struct {
		CategoryID int64   `json:"category_id"`
		Name       string  `json:"name"`
		AP         float64 `json:"ap"`
	} `json:"per_category_ap"`
}

const parityTol = 1e-12

func evaluateCase(t *testing.T, name string, kind IoUType) *Result {
	t.Helper()
	gt, err := os.Open(filepath.Join("testdata", "parity", name+".gt.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer gt.Close()
	rs, err := os.Open(filepath.Join("testdata", "parity", name+".res.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	res, err := EvaluateFiles(context.Background(), gt, rs, kind)
	if err != nil {
		t.Fatalf("evaluate %s: %v", name, err)
	}
	return res
}

func readGolden(t *testing.T, name string) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "parity", name+".golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("parse golden %s: %v", name, err)
	}
	return g
}

// checkClose reports the first few values beyond tol, llm.c style.
func checkClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol {
			if bad < 5 {
				t.Errorf("%s[%d] = %.17g, pycocotools %.17g", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ by more than %g", what, bad, len(want), tol)
	}
}

func TestParityWithPycocotools(t *testing.T) {
	cases := []struct {
		name string
		kind IoUType
	}{
		{"edge", BBox},
		{"random", BBox},
		{"proposal", Proposal},
		{"segm", Segm},
		{"segm_bbox", Segm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := evaluateCase(t, c.name, c.kind)
			g := readGolden(t, c.name)
			if g.Kind != string(c.kind) {
				t.Fatalf("golden kind %q, want %q", g.Kind, c.kind)
			}
			checkClose(t, "stats", res.Stats, g.Stats, parityTol)
			if !slices.Equal(res.Stats, g.Stats) {
				t.Errorf("stats not bit-identical: %v, pycocotools %v", res.Stats, g.Stats)
			}
			checkClose(t, "recall", res.Recall, g.Recall, parityTol)
			sum := 0.0
			for _, v := range res.Precision {
				sum += v
			}
			if math.Abs(sum-g.PrecisionSum) > 1e-9*math.Max(1, math.Abs(sum)) {
				t.Errorf("sum of precision = %.17g, pycocotools %.17g", sum, g.PrecisionSum)
			}
			var summary bytes.Buffer
			if err := res.Summary(&summary); err != nil {
				t.Fatal(err)
			}
			if summary.String() != g.Summary {
				t.Errorf("summary differs:\ngot:\n%s\npycocotools:\n%s", summary.String(), g.Summary)
			}
			for k, pc := range g.PerCategoryAP {
				if res.CategoryIDs[k] != pc.CategoryID || res.CategoryNames[k] != pc.Name {
					t.Fatalf("category %d is %d %q, pycocotools %d %q", k, res.CategoryIDs[k], res.CategoryNames[k], pc.CategoryID, pc.Name)
				}
				if got := res.CategoryAP(k); math.Abs(got-pc.AP) > parityTol {
					t.Errorf("AP/%s = %.17g, pycocotools %.17g", pc.Name, got, pc.AP)
				}
			}
		})
	}
}
