package pipelines

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/stages/evaluate"
	"github.com/detflow/detflow/stages/train"
	"github.com/detflow/detflow/tensor"
)

// detectorModels is the train stage's model factory: the detector the
// config's model section names, with its pretrained backbone loaded when
// model.backbone.pretrained is set.
func detectorModels(cfg *configs.Config) (train.Builder, error) {
	return func(e *tensor.Engine, rng *rand.Rand) (train.Model, error) {
		d, err := detector.Build(e, cfg, rng)
		if err != nil {
			return nil, err
		}
		if p := cfg.Model.Backbone.Pretrained; p != "" {
			rep, err := detector.LoadBackboneWeights(context.Background(), d, p)
			if err != nil {
				return nil, fmt.Errorf("model.backbone.pretrained: %w", err)
			}
			if len(rep.Missing) > 0 {
				return nil, fmt.Errorf("model.backbone.pretrained %q: backbone weights missing: %s", p, rep)
			}
		}
		return d, nil
	}, nil
}

func init() {
	// Beam workers run every init but not main: the loader must be
	// registered here to be found by name in off-process workers.
	evaluate.RegisterLoader(loadDetector)
}

// loadDetector is the evaluate stage's loader: the config's detector with a
// train-stage checkpoint's weights.
func loadDetector(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (evaluate.Model, error) {
	d, err := detector.Build(e, cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	_, rep, err := nn.LoadCheckpoint(ctx, checkpoint, d, nil)
	if err != nil {
		return nil, err
	}
	if !rep.Clean() {
		return nil, fmt.Errorf("checkpoint %s does not match the %s model: %s", checkpoint, cfg.Model.Type, rep)
	}
	nn.SetTraining(d, false)
	return d, nil
}
