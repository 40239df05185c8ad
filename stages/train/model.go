package train

import (
	"math/rand/v2"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// Model is a detector the trainer can train.
type Model interface {
	nn.Module
	// Losses runs the training forward pass on b and returns named scalar
	// losses whose sum is minimised. Each loss is a mean over b's images
	// (or over equally many samples per image), so averaging replicas'
	// gradients equals training on their images together. rngs holds one
	// generator per image of b for its random choices (RoI sampling).
	Losses(b *batch.Batch, rngs []*rand.Rand) (map[string]*tensor.Tensor, error)
}

// Builder makes a freshly initialised model on an engine. Replicas are built
// with the same rng seed, so they start identical.
type Builder func(e *tensor.Engine, rng *rand.Rand) (Model, error)

// Factory picks the Builder for a config's model section.
type Factory func(cfg *configs.Config) (Builder, error)
