package detector

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/zoo"
)

// TestEveryRegisteredModelHasABuilder ties Build to the registry.
func TestEveryRegisteredModelHasABuilder(t *testing.T) {
	types := zoo.ModelTypes()
	for _, typ := range types {
		if builders[typ] == nil {
			t.Errorf("model type %s is registered in package zoo but Build has no builder for it", typ)
		}
	}
	for typ := range builders {
		if !slices.Contains(types, typ) {
			t.Errorf("Build has a builder for %s, which package zoo does not register", typ)
		}
	}
}

// TestRCNNScoreThrZeroKeepsEveryScore checks that test_cfg.rcnn.score_thr=0
// reaches the RoI head as "keep every positive score", not as
// RoIHeadOptions' default 0.05, which a plain 0 there selects.
func TestRCNNScoreThrZeroKeepsEveryScore(t *testing.T) {
	cfg, err := configs.Load("faster_rcnn_tiny_synth", []string{"test_cfg.rcnn.score_thr=0"})
	if err != nil {
		t.Fatal(err)
	}
	opt, err := RoIHeadOptionsFromConfig(cfg, cfg.Model.Neck.OutChannels)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewRoIHead(newEngine(), opt, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if thr := h.opt.ScoreThr; thr <= 0 || float32(thr) != 0 {
		t.Errorf("score threshold %g, want a positive one under every positive float32", thr)
	}
}
