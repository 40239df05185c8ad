package evaluate

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/configs"
)

// TestCombineIgnoresOrderAndSplits feeds the same image evaluations to the
// combine in different orders and accumulator splits, as runners do, and
// checks the summaries are identical; it also round-trips the accumulator
// through its Beam coder.
func TestCombineIgnoresOrderAndSplits(t *testing.T) {
	f := localFixture(t)
	ctx := context.Background()
	out := run(t, f, loadJitteredModel, configs.Default)
	rf, err := os.Open(filepath.Join(out, ResultsName("bbox")))
	if err != nil {
		t.Fatal(err)
	}
	dets, err := coco.ReadResults(ctx, rf)
	rf.Close()
	if err != nil {
		t.Fatal(err)
	}
	gt := loadGT(t, f)
	p, err := params("bbox", nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := coco.NewEvaluator(gt, p)
	if err != nil {
		t.Fatal(err)
	}
	var inputs []imageEval
	for _, id := range gt.ImageIDs() {
		var mine []coco.Detection
		for _, d := range dets {
			if d.ImageID == id {
				mine = append(mine, d)
			}
		}
		ie, err := ev.EvaluateImage(id, mine)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, imageEval{Kind: "bbox", Seconds: 0.5, Eval: ie})
	}
	fn := &accumulateFn{Annotations: groundTruthPath(t, f), Kinds: []string{"bbox"}}
	if err := fn.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	combine := func(parts ...[]imageEval) evalSummary {
		acc := fn.CreateAccumulator()
		for _, part := range parts {
			a := fn.CreateAccumulator()
			for _, in := range part {
				a = fn.AddInput(a, in)
			}
			b, err := encodeEvalBatch(a)
			if err != nil {
				t.Fatal(err)
			}
			if a, err = decodeEvalBatch(b); err != nil {
				t.Fatal(err)
			}
			acc = fn.MergeAccumulators(acc, a)
		}
		s, err := fn.ExtractOutput(acc)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := combine(inputs)
	reversed := slices.Clone(inputs)
	slices.Reverse(reversed)
	for name, got := range map[string]evalSummary{
		"reversed":     combine(reversed),
		"split in two": combine(reversed[:1], reversed[1:]),
		"one per part": combine(inputs[2:3], inputs[0:1], inputs[3:], inputs[1:2]),
	} {
		if got.Images != want.Images || got.Seconds != want.Seconds || got.Text != want.Text || len(got.Rows) != len(want.Rows) {
			t.Fatalf("%s: summary %+v, want %+v", name, got, want)
		}
		for i := range want.Rows {
			if math.Float64bits(got.Rows[i].Value) != math.Float64bits(want.Rows[i].Value) {
				t.Errorf("%s: %s = %v, want %v", name, got.Rows[i].Name, got.Rows[i].Value, want.Rows[i].Value)
			}
		}
	}
	if _, err := fn.ExtractOutput(fn.AddInput(fn.CreateAccumulator(), inputs[0])); err == nil {
		t.Error("accumulating 1 of 4 images succeeded; a missing shard must be an error")
	}
}
