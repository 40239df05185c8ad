package train

import (
	"fmt"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/zoo"
)

// checkNumClasses refuses a classifier with fewer classes than the data has
// categories before any step: otherwise the first label past the last
// class fails deep in the loss at step 1, naming neither.
func checkNumClasses(cfg *configs.Config, idx *records.Index) error {
	key, k := classesKey(cfg)
	if key == "" {
		return nil // class-agnostic (RPN), or a type the builder rejects
	}
	for _, c := range idx.Categories {
		if int(c.Label) >= k {
			return fmt.Errorf("train: %s is %d but the %s split has %d categories; category id %d %q (label %d) has no class: set %s=%d",
				key, k, idx.Split, len(idx.Categories), c.ID, c.Name, c.Label, key, len(idx.Categories))
		}
	}
	return nil
}

// classesKey is the config key of the model's classifier width and its
// value: the RoI head's or a single-stage detector's head's; "" for a
// class-agnostic model.
func classesKey(cfg *configs.Config) (string, int) {
	heads, _ := zoo.LookupModel(cfg.Model.Type)
	switch {
	case heads.RoIHead:
		return "model.roi_head.bbox_head.num_classes", cfg.Model.RoIHead.BBoxHead.NumClasses
	case heads.DenseHead:
		return "model.bbox_head.num_classes", cfg.Model.BBoxHead.NumClasses
	}
	return "", 0
}
