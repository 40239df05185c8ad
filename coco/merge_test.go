package coco

import (
	"bytes"
	"context"
	"encoding/gob"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func loadCase(t *testing.T, name string) (*Dataset, []Detection) {
	t.Helper()
	ctx := context.Background()
	gt, err := os.Open(filepath.Join("testdata", "parity", name+".gt.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer gt.Close()
	ds, err := LoadDataset(ctx, gt)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := os.Open(filepath.Join("testdata", "parity", name+".res.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	dets, err := ReadResults(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	return ds, dets
}

// TestShuffledMergeIsIdentical evaluates images one by one, sends each
// ImageEval through gob as a worker would, adds them in shuffled orders and
// checks every accumulated number is bit-identical to Evaluate's.
func TestShuffledMergeIsIdentical(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Params
	}{{"edge", mustParams(BBox)}, {"random", mustParams(BBox)}, {"proposal", mustParams(Proposal)}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			ds, dets := loadCase(t, c.name)
			want, err := Evaluate(ctx, ds, dets, c.p)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := NewEvaluator(ds, c.p)
			if err != nil {
				t.Fatal(err)
			}
			byImage := map[int64][]Detection{}
			// Hand each image its detections in reverse file order: the IDs,
			// not the slice order, must decide ties.
			for i := len(dets) - 1; i >= 0; i-- {
				byImage[dets[i].ImageID] = append(byImage[dets[i].ImageID], dets[i])
			}
			var evals []ImageEval
			for _, id := range ds.ImageIDs() {
				ie, err := ev.EvaluateImage(id, byImage[id])
				if err != nil {
					t.Fatal(err)
				}
				evals = append(evals, roundTripGob(t, ie))
			}
			for seed := range uint64(4) {
				rng := rand.New(rand.NewPCG(seed, 99))
				rng.Shuffle(len(evals), func(i, j int) { evals[i], evals[j] = evals[j], evals[i] })
				acc := ev.NewAccumulator()
				for _, ie := range evals {
					if err := acc.Add(ie); err != nil {
						t.Fatal(err)
					}
				}
				got, err := acc.Accumulate(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Stats, want.Stats) || !slices.Equal(got.Precision, want.Precision) || !slices.Equal(got.Recall, want.Recall) {
					t.Fatalf("seed %d: shuffled merge differs: stats %v, want %v", seed, got.Stats, want.Stats)
				}
				// Three partial accumulators (workers), merged last first.
				parts := []*Accumulator{ev.NewAccumulator(), ev.NewAccumulator(), ev.NewAccumulator()}
				for i, ie := range evals {
					if err := parts[i%3].Add(ie); err != nil {
						t.Fatal(err)
					}
				}
				merged := ev.NewAccumulator()
				for i := len(parts) - 1; i >= 0; i-- {
					if err := merged.Merge(parts[i]); err != nil {
						t.Fatal(err)
					}
				}
				if merged.Len() != len(evals) {
					t.Fatalf("merged %d images, want %d", merged.Len(), len(evals))
				}
				got, err = merged.Accumulate(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Stats, want.Stats) || !slices.Equal(got.Precision, want.Precision) || !slices.Equal(got.Recall, want.Recall) {
					t.Fatalf("seed %d: merged partial accumulators differ: stats %v, want %v", seed, got.Stats, want.Stats)
				}
				if err := merged.Merge(parts[0]); err == nil {
					t.Fatal("merging the same images twice succeeded")
				}
			}
		})
	}
}

func roundTripGob(t *testing.T, ie ImageEval) ImageEval {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(ie); err != nil {
		t.Fatal(err)
	}
	var out ImageEval
	if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAccumulatorRejectsBadAdds(t *testing.T) {
	ds, dets := loadCase(t, "edge")
	ev, err := NewEvaluator(ds, mustParams(BBox))
	if err != nil {
		t.Fatal(err)
	}
	var onImage []Detection
	for _, d := range dets {
		if d.ImageID == 40 {
			onImage = append(onImage, d)
		}
	}
	ie, err := ev.EvaluateImage(40, onImage)
	if err != nil {
		t.Fatal(err)
	}
	short := ie
	short.Categories = slices.Clone(ie.Categories)
	short.Categories[0].Positives = short.Categories[0].Positives[:1]
	tests := []struct {
		name string
		adds []ImageEval
	}{
		{"twice", []ImageEval{ie, ie}},
		{"unknown image", []ImageEval{{ImageID: 12345}}},
		{"wrong array sizes", []ImageEval{short}},
		{"unknown category", []ImageEval{{ImageID: 3, Categories: []CategoryEval{{CategoryID: 99, Positives: make([]int32, 4)}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc := ev.NewAccumulator()
			var err error
			for _, a := range tt.adds {
				if err = acc.Add(a); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatal("Add accepted it")
			}
		})
	}
}
