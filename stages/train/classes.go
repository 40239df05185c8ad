package train

import (
	"fmt"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/stages/records"
)

// checkNumClasses refuses a classifier with fewer classes than the data has
// categories before any step: otherwise the first label past the last
// class fails deep in the loss at step 1, naming neither.
func checkNumClasses(cfg *configs.Config, idx *records.Index) error {
	key, k := cfg.NumClasses()
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
