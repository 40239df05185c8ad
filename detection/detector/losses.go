package detector

import (
	"fmt"
	"maps"
	"slices"

	"github.com/detflow/detflow/tensor"
)

// Losses are named scalar losses ("loss_cls", "loss_bbox", "loss_rpn_cls",
// ...): what each head or branch returns and what a detector's Losses
// merges. An alias, not a new type, so that detectors satisfy interfaces
// written with the plain map (the trainer's Model).
type Losses = map[string]*tensor.Tensor

// MergeLosses joins the losses of a detector's heads and branches. A name
// returned twice is an error: one term would silently replace the other in
// the total and in the train log.
func MergeLosses(parts ...Losses) (Losses, error) {
	out := Losses{}
	for _, p := range parts {
		for _, name := range slices.Sorted(maps.Keys(p)) {
			if _, dup := out[name]; dup {
				return nil, fmt.Errorf("two heads return a loss named %q", name)
			}
			out[name] = p[name]
		}
	}
	return out, nil
}

// TotalLoss adds named losses in name order (so the sum is reproducible).
func TotalLoss(losses Losses) *tensor.Tensor {
	var total *tensor.Tensor
	for _, k := range slices.Sorted(maps.Keys(losses)) {
		if total == nil {
			total = losses[k]
		} else {
			total = tensor.Add(total, losses[k])
		}
	}
	return total
}
