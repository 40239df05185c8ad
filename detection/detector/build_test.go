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
// reaches the RoI head as 0, "keep every positive score", and not as the
// configs' default 0.05, which a config that leaves it out still gets.
func TestRCNNScoreThrZeroKeepsEveryScore(t *testing.T) {
	for _, tc := range []struct {
		overrides []string
		want      float64
	}{
		{[]string{"test_cfg.rcnn.score_thr=0"}, 0},
		{nil, 0.05},
	} {
		cfg, err := configs.Load("faster_rcnn_tiny_synth", tc.overrides)
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
		if thr := h.opt.ScoreThr; thr != tc.want {
			t.Errorf("%v: score threshold %g, want %g", tc.overrides, thr, tc.want)
		}
	}
}
