// Package stages holds the contract between the orchestrator (package
// pipelines) and the stages of a pipeline: one sub-package per stage
// implements Stage, and the orchestrator fingerprints, runs and publishes it.
package stages

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/progress"
	"github.com/detflow/detflow/storage"
)

// Stage is one step of a pipeline. A stage reads the published outputs of the
// stages named by Inputs and the config keys under ConfigKeys, and writes its
// outputs below Env.Out. It never writes anywhere else: the orchestrator
// publishes Env.Out atomically once Run returns nil.
type Stage interface {
	// Name is the stage's folder name in the run directory, e.g. "train".
	Name() string
	// Version changes whenever the stage's outputs change meaning or format
	// for the same inputs; a new version makes published outputs stale.
	Version() int
	// Inputs names the upstream stages whose outputs this stage reads.
	Inputs() []string
	// ConfigKeys lists the config key prefixes this stage reads, e.g.
	// "train" or "model.backbone"; changing any key below them reruns it.
	ConfigKeys() []string
	// Run does the work. It must honour ctx cancellation.
	Run(ctx context.Context, env *Env) error
}

// Env is what a stage gets to run with.
type Env struct {
	FS     *storage.FS
	Config *configs.Config
	// Run is the run's name; RunDir its directory (local path or gs:// URL).
	Run    string
	RunDir string
	// Out is the folder the stage writes its outputs to. It is a temporary
	// folder that the orchestrator publishes as RunDir/<stage> on success.
	Out string
	// Work is a folder that survives a killed run: a stage that checkpoints
	// (train) writes there and resumes from it when rerun with the same
	// fingerprint. The orchestrator deletes it once the stage is published.
	Work string
	// Inputs maps each upstream stage named by Stage.Inputs to the folder
	// holding its published outputs.
	Inputs map[string]string
	// Devices is what --devices selected.
	Devices  Devices
	Log      *slog.Logger
	Progress *progress.Factory
	// Info is recorded in the stage's manifest under "info" when the stage
	// succeeds, e.g. per-shard row counts. It must marshal to JSON.
	Info map[string]any
}

// Input returns the published folder of the upstream stage name, or an error
// naming the stage when the orchestrator did not provide it.
func (e *Env) Input(name string) (string, error) {
	dir, ok := e.Inputs[name]
	if !ok {
		return "", fmt.Errorf("input of stage %q not provided", name)
	}
	return dir, nil
}

// OptionalInputs is implemented by stages that can do without some of
// their inputs under cfg: evaluate runs model.load_from when the train
// stage has not run. An optional input that is neither up to date nor
// going to run is left out of Env.Inputs instead of blocking the stage.
type OptionalInputs interface {
	OptionalInputs(cfg *configs.Config) []string
}

// ExternalReader is implemented by stages that read files or folders outside
// the run directory: a user's annotations and images, proposal files,
// pretrained weights, checkpoints. The orchestrator digests each (through a
// stat cache) and folds the digests into the stage's fingerprint, so an edit
// in place reruns the stage and everything downstream of it.
type ExternalReader interface {
	// External maps the config key naming each external input to its path
	// (local or gs://; a file or a folder) under cfg. Keys whose value names
	// no file (empty, a torchvision:// name) are left out.
	External(ctx context.Context, fsys *storage.FS, cfg *configs.Config) (map[string]string, error)
}
