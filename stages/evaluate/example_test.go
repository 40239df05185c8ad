package evaluate_test

import (
	"context"
	"fmt"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/stages/evaluate"
	"github.com/detflow/detflow/tensor"
)

// loadDetector stands for a detector package's loader: it builds the model
// of cfg on e and loads the weights of the checkpoint file.
func loadDetector(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (evaluate.Model, error) {
	return nil, fmt.Errorf("%s detectors are not built in this example", cfg.Model.Type)
}

// The loader is registered from init, so that Beam workers (this binary
// started with --worker, which runs init but not main) can find it.
func init() { evaluate.RegisterLoader(loadDetector) }

func ExampleStage() {
	st := evaluate.Stage{Load: loadDetector}
	fmt.Println(st.Name(), st.Inputs())
	fmt.Println(evaluate.ResultsName("bbox"), evaluate.MetricsName)
	// Output:
	// evaluate [dataset records train]
	// results.bbox.json metrics.parquet
}
