package detector

import (
	"slices"
	"testing"

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
