package evaluate

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/reflectx"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/tensor"
)

// Model is a trained detector ready for inference. Predict runs without
// recording gradients and returns one detection.Detections per image of b,
// in order, boxes in original image pixels.
type Model interface {
	Predict(b *batch.Batch) ([]detection.Detections, error)
}

// ProposalModel is a two-stage detector that can also return its first
// stage's proposals; the evaluate stage uses it for iou type "proposal"
// when the model is not itself an RPN.
type ProposalModel interface {
	Model
	PredictProposals(b *batch.Batch) ([]detection.Detections, error)
}

// Loader builds the model of cfg on engine e with the weights of a local
// checkpoint file.
type Loader func(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (Model, error)

var loaderType = reflect.TypeOf((*Loader)(nil)).Elem()

// loaderPrefix keeps loader keys apart from Beam's own function names.
const loaderPrefix = "detflow/stages/evaluate.Loader:"

// RegisterLoader makes l resolvable by name in Beam workers. Call it from
// an init function of a package that the worker binary links (it panics
// after beam.Init, as Beam's own registrations do): workers are started
// from the same binary, run every init, but not main, so Stage.Load itself
// never reaches them. l must be a top-level function: closures of one
// generator share a symbol name, and a worker could resolve the wrong one.
//
// The registry is Beam's function registry (runtime.RegisterFunctionWithName),
// keyed by the function's symbol name, so this package holds no state.
func RegisterLoader(l Loader) {
	key, err := loaderKey(l)
	if err != nil {
		panic(err)
	}
	runtime.RegisterFunctionWithName(key, l)
}

// loaderKey is the registry name of l.
func loaderKey(l Loader) (string, error) {
	if l == nil {
		return "", fmt.Errorf("evaluate: no model loader")
	}
	name := reflectx.FunctionName(l)
	if i := strings.LastIndex(name, "."); i >= 0 && strings.HasPrefix(name[i+1:], "func") {
		return "", fmt.Errorf("evaluate: model loader %s is a closure; register a top-level function", name)
	}
	return loaderPrefix + name, nil
}

// resolveLoader finds a registered loader by key, in the driver (to fail
// before starting the pipeline) or in a worker.
func resolveLoader(key string) (Loader, error) {
	fn, err := runtime.ResolveFunction(key, loaderType)
	if err != nil {
		return nil, fmt.Errorf("evaluate: model loader %q is not registered in this binary: call evaluate.RegisterLoader(%s) from an init function", strings.TrimPrefix(key, loaderPrefix), strings.TrimPrefix(key, loaderPrefix))
	}
	l, ok := fn.(Loader)
	if !ok {
		return nil, fmt.Errorf("evaluate: %q is registered as %T, not an evaluate.Loader", strings.TrimPrefix(key, loaderPrefix), fn)
	}
	return l, nil
}
