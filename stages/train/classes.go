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
	heads, ok := zoo.LookupModel(cfg.Model.Type)
	if !ok || !heads.RoIHead {
		return nil // class-agnostic (RPN) or checked by the model builder
	}
	k := cfg.Model.RoIHead.BBoxHead.NumClasses
	for _, c := range idx.Categories {
		if int(c.Label) >= k {
			return fmt.Errorf("train: model.roi_head.bbox_head.num_classes is %d but the %s split has %d categories; category id %d %q (label %d) has no class: set model.roi_head.bbox_head.num_classes=%d",
				k, idx.Split, len(idx.Categories), c.ID, c.Name, c.Label, len(idx.Categories))
		}
	}
	return nil
}
