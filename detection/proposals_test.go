package detection

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// zeroDeltaLevel makes a level whose proposals are its anchors.
func zeroDeltaLevel(anchors, scores []float32) LevelPredictions {
	return LevelPredictions{Scores: scores, Deltas: make([]float32, len(anchors)), Anchors: anchors}
}

func TestGenerateProposalsV2(t *testing.T) {
	// Level 0: two overlapping boxes and a zero-width one; level 1: a box
	// identical to level 0's best, which NMS within levels must keep.
	l0 := zeroDeltaLevel([]float32{0, 0, 10, 10, 1, 0, 10, 10, 5, 5, 5, 9, 20, 20, 30, 30},
		[]float32{0.9, 0.8, 0.95, 0.1})
	l1 := zeroDeltaLevel([]float32{0, 0, 10, 10, 40, 40, 60, 60}, []float32{0.7, 0.6})
	cfg := ProposalConfig{NmsPre: 3, MaxNum: 10, NmsThr: 0.7}
	p, err := GenerateProposals([]LevelPredictions{l0, l1}, RPNBoxCoder(), 50, 50, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Level 0 top 3: 0.95 (zero width, dropped), 0.9, 0.8 (suppressed by 0.9);
	// 0.1 is cut by NmsPre. Level 1 keeps both; the 40..60 box is clipped.
	allClose(t, "scores", p.Scores, []float32{0.9, 0.7, 0.6}, 0, 0)
	allClose(t, "boxes", p.Boxes, []float32{0, 0, 10, 10, 0, 0, 10, 10, 40, 40, 50, 50}, 0, 0)

	cfg.MaxNum = 2
	p, _ = GenerateProposals([]LevelPredictions{l0, l1}, RPNBoxCoder(), 50, 50, cfg)
	allClose(t, "max num", p.Scores, []float32{0.9, 0.7}, 0, 0)

	cfg.MinBoxSize = -1 // no size filter at all
	cfg.MaxNum = 0
	p, _ = GenerateProposals([]LevelPredictions{l0, l1}, RPNBoxCoder(), 50, 50, cfg)
	allClose(t, "no size filter", p.Scores, []float32{0.95, 0.9, 0.7, 0.6}, 0, 0)
}

func TestGenerateProposalsV0(t *testing.T) {
	l0 := zeroDeltaLevel([]float32{0, 0, 10, 10, 20, 0, 30, 10, 40, 0, 50, 10}, []float32{0.5, 0.4, 0.3})
	l1 := zeroDeltaLevel([]float32{0, 20, 10, 30, 20, 20, 30, 30}, []float32{0.45, 0.35})
	coder := RPNBoxCoder()
	coder.Legacy = true
	cfg := ProposalConfig{NmsPre: 10, NmsPost: 2, MaxNum: 3, NmsThr: 0.7, Legacy: true}
	p, err := GenerateProposals([]LevelPredictions{l0, l1}, coder, 100, 100, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// NmsPost 2 per level drops 0.3; then the best 3 of {0.5, 0.4, 0.45, 0.35}.
	allClose(t, "scores", p.Scores, []float32{0.5, 0.45, 0.4}, 0, 0)
	if _, err := GenerateProposals(nil, RPNBoxCoder(), 10, 10, cfg); err == nil {
		t.Error("legacy config with v2 coder: no error")
	}
}

// Property on random inputs: scores sorted, count bounded, boxes inside the
// image, no two kept boxes of one level overlap above the threshold.
func TestGenerateProposalsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 41))
	gen := RPNAnchors()
	imgH, imgW := 200, 300
	var levels []LevelPredictions
	for l, s := range gen.Strides {
		fh, fw := (imgH+s-1)/s, (imgW+s-1)/s
		a := gen.GridAnchors(l, fh, fw)
		n := NumBoxes(a)
		d := make([]float32, 4*n)
		for i := range d {
			d[i] = float32(rng.NormFloat64() * 0.2)
		}
		levels = append(levels, LevelPredictions{Scores: randomScores(rng, n, 0), Deltas: d, Anchors: a})
	}
	for _, legacy := range []bool{false, true} {
		coder := RPNBoxCoder()
		coder.Legacy = legacy
		cfg := ProposalConfig{NmsPre: 1000, NmsPost: 1000, MaxNum: 1000, NmsThr: 0.7, Legacy: legacy}
		p, err := GenerateProposals(levels, coder, imgH, imgW, cfg)
		if err != nil {
			t.Fatal(err)
		}
		n := NumBoxes(p.Boxes)
		if n == 0 || n > 1000 || len(p.Scores) != n {
			t.Fatalf("legacy=%v: %d boxes, %d scores", legacy, n, len(p.Scores))
		}
		if !slices.IsSortedFunc(p.Scores, func(a, b float32) int {
			switch {
			case a > b:
				return -1
			case a < b:
				return 1
			}
			return 0
		}) {
			t.Errorf("legacy=%v: scores not sorted", legacy)
		}
		for i, v := range p.Boxes {
			limit := float32(imgW)
			if i%2 == 1 {
				limit = float32(imgH)
			}
			if v < 0 || v > limit {
				t.Fatalf("legacy=%v: coordinate %d = %g outside the image", legacy, i, v)
			}
		}
	}
	batch, err := GenerateProposalsBatch([][]LevelPredictions{levels, levels}, RPNBoxCoder(), [][2]int{{imgH, imgW}, {100, 100}},
		ProposalConfig{NmsPre: 500, MaxNum: 300, NmsThr: 0.7})
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != 2 || NumBoxes(batch[0].Boxes) > 300 {
		t.Fatalf("batch: %d images, %d boxes in the first", len(batch), NumBoxes(batch[0].Boxes))
	}
}
