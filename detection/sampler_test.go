package detection

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// syntheticAssign makes an assignment with the given numbers of positives,
// negatives and ignored proposals, shuffled.
func syntheticAssign(rng *rand.Rand, pos, neg, ign, numGts int) AssignResult {
	n := pos + neg + ign
	r := AssignResult{NumGts: numGts, GtIndex: make([]int, 0, n), Labels: make([]int, 0, n), MaxOverlap: make([]float32, n)}
	for i := 0; i < pos; i++ {
		g := i % max(numGts, 1)
		r.GtIndex = append(r.GtIndex, g)
		r.Labels = append(r.Labels, 100+g)
	}
	for i := 0; i < neg; i++ {
		r.GtIndex = append(r.GtIndex, Negative)
		r.Labels = append(r.Labels, NoLabel)
	}
	for i := 0; i < ign; i++ {
		r.GtIndex = append(r.GtIndex, Ignored)
		r.Labels = append(r.Labels, NoLabel)
	}
	perm := rng.Perm(n)
	out := AssignResult{NumGts: numGts, GtIndex: make([]int, n), Labels: make([]int, n), MaxOverlap: r.MaxOverlap}
	for i, p := range perm {
		out.GtIndex[i], out.Labels[i] = r.GtIndex[p], r.Labels[p]
	}
	return out
}

func TestRandomSamplerCounts(t *testing.T) {
	for _, tc := range []struct {
		name               string
		s                  RandomSampler
		pos, neg, ign, gts int
		wantPos, wantNeg   int
	}{
		{"plenty", RandomSampler{Num: 512, PosFraction: 0.25, NegPosUB: -1}, 1000, 3000, 100, 5, 128, 384},
		{"few positives fill with negatives", RandomSampler{Num: 512, PosFraction: 0.25, NegPosUB: -1}, 20, 3000, 0, 5, 20, 492},
		{"few of both", RandomSampler{Num: 512, PosFraction: 0.25, NegPosUB: -1}, 20, 30, 10, 5, 20, 30},
		{"neg pos upper bound", RandomSampler{Num: 256, PosFraction: 0.5, NegPosUB: 3}, 10, 1000, 0, 2, 10, 30},
		{"upper bound with no positives uses 1", RandomSampler{Num: 256, PosFraction: 0.5, NegPosUB: 3}, 0, 1000, 0, 0, 0, 3},
		{"gts as proposals", RandomSampler{Num: 512, PosFraction: 0.25, NegPosUB: -1, AddGtAsProposals: true}, 10, 3000, 0, 7, 17, 495},
		{"rpn", RPNSampler(), 300, 5000, 2000, 4, 128, 128},
		{"rcnn", RCNNSampler(), 50, 1950, 0, 3, 53, 459},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(42, 1))
			assign := syntheticAssign(rng, tc.pos, tc.neg, tc.ign, tc.gts)
			n := tc.pos + tc.neg + tc.ign
			props := randomBoxes(rng, n, 100, 1, 50)
			gts := randomBoxes(rng, tc.gts, 100, 1, 50)
			res, err := tc.s.Sample(rng, assign, props, gts, make([]int, tc.gts))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.PosInds) != tc.wantPos || len(res.NegInds) != tc.wantNeg {
				t.Fatalf("sampled %d pos, %d neg; want %d, %d", len(res.PosInds), len(res.NegInds), tc.wantPos, tc.wantNeg)
			}
			checkSample(t, res)
			if tc.s.AddGtAsProposals {
				allClose(t, "gts first", res.Proposals[:4*tc.gts], gts, 0, 0)
				// With so few positives, all of them, gts included, are drawn.
				for i := 0; i < tc.gts; i++ {
					if !res.GtFlags[i] || res.PosInds[i] != i || res.Assign.GtIndex[i] != i {
						t.Fatalf("gt %d not a sampled positive of itself", i)
					}
				}
			}
		})
	}
}

// checkSample asserts the invariants of any sample: sorted, no duplicates,
// positives are positive, negatives negative, disjoint.
func checkSample(t *testing.T, res SamplingResult) {
	t.Helper()
	for _, set := range [][]int{res.PosInds, res.NegInds} {
		if !slices.IsSorted(set) {
			t.Fatalf("indices not sorted: %v", head(set))
		}
		for i := 1; i < len(set); i++ {
			if set[i] == set[i-1] {
				t.Fatalf("duplicate index %d", set[i])
			}
		}
	}
	for _, p := range res.PosInds {
		if res.Assign.GtIndex[p] < 0 {
			t.Fatalf("positive %d has gt index %d", p, res.Assign.GtIndex[p])
		}
	}
	for _, p := range res.NegInds {
		if res.Assign.GtIndex[p] != Negative {
			t.Fatalf("negative %d has gt index %d", p, res.Assign.GtIndex[p])
		}
	}
	if n := NumBoxes(res.Proposals); len(res.Assign.GtIndex) != n || len(res.GtFlags) != n {
		t.Fatalf("proposals %d, assignment %d, flags %d", n, len(res.Assign.GtIndex), len(res.GtFlags))
	}
}

func TestRandomSamplerDeterministic(t *testing.T) {
	s := RCNNSampler()
	assign := syntheticAssign(rand.New(rand.NewPCG(1, 2)), 600, 3000, 50, 9)
	props := make([]float32, 4*3650)
	gts := make([]float32, 4*9)
	draw := func(seed uint64) SamplingResult {
		res, err := s.Sample(rand.New(rand.NewPCG(seed, 0)), assign, props, gts, make([]int, 9))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b, c := draw(7), draw(7), draw(8)
	if !slices.Equal(a.PosInds, b.PosInds) || !slices.Equal(a.NegInds, b.NegInds) {
		t.Fatal("same seed, different samples")
	}
	if slices.Equal(a.PosInds, c.PosInds) && slices.Equal(a.NegInds, c.NegInds) {
		t.Fatal("different seeds, identical samples")
	}
}

// Property: every candidate is drawn with about the same probability.
func TestRandomSamplerUniform(t *testing.T) {
	s := RandomSampler{Num: 20, PosFraction: 0.5, NegPosUB: -1}
	rng := rand.New(rand.NewPCG(9, 9))
	assign := syntheticAssign(rng, 40, 40, 0, 1)
	props := make([]float32, 4*80)
	counts := make([]int, 80)
	const trials = 4000
	for range trials {
		res, err := s.Sample(rng, assign, props, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range slices.Concat(res.PosInds, res.NegInds) {
			counts[i]++
		}
	}
	// Each index is drawn with probability 10/40; expect 1000 +- ~5 sigma.
	for i, c := range counts {
		if c < 850 || c > 1150 {
			t.Errorf("index %d drawn %d times in %d trials, want about 1000", i, c, trials)
		}
	}
}

func TestRandomSamplerErrors(t *testing.T) {
	assign := syntheticAssign(rand.New(rand.NewPCG(1, 1)), 1, 1, 0, 1)
	props := make([]float32, 8)
	if _, err := RCNNSampler().Sample(nil, assign, props, nil, nil); err == nil {
		t.Error("nil rng: no error")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	if _, err := (RandomSampler{Num: 0, PosFraction: 0.5}).Sample(rng, assign, props, nil, nil); err == nil {
		t.Error("num 0: no error")
	}
	if _, err := RCNNSampler().Sample(rng, assign, props[:4], nil, nil); err == nil {
		t.Error("assignment size mismatch: no error")
	}
}
