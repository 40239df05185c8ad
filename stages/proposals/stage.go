package proposals

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/console"
	"github.com/detflow/detflow/progress"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

const stageName = "proposals"

// Proposal methods, the values of proposals.method.
const (
	MethodSelectiveSearch = "selective_search"
	MethodFile            = "file"
	MethodRPN             = "rpn"
)

// MetricsName is the metrics table file in the stage folder.
const MetricsName = "metrics.parquet"

// Stage is the proposals stage.
type Stage struct{}

func (Stage) Name() string     { return stageName }
func (Stage) Version() int     { return 1 }
func (Stage) Inputs() []string { return []string{"dataset"} }

// ConfigKeys: the proposals section, and the pipeline name that metrics
// rows carry.
func (Stage) ConfigKeys() []string { return []string{"proposals", "pipeline"} }

// Run computes or imports the proposals of every split, writes them as
// part files and writes their recall to metrics.parquet.
func (Stage) Run(ctx context.Context, env *stages.Env) error {
	cfg := env.Config.Proposals
	if err := checkConfig(cfg); err != nil {
		return err
	}
	dsDir, err := env.Input("dataset")
	if err != nil {
		return err
	}
	splits, err := readSplits(ctx, env.FS, dsDir)
	if err != nil {
		return err
	}
	var rpn *rpnSource
	if cfg.Method == MethodRPN {
		if rpn, err = prepareRPN(ctx, env, cfg); err != nil {
			return err
		}
	}
	m := &metricRows{run: env.Run, pipeline: env.Config.Pipeline, created: time.Now().UTC()}
	for _, sp := range splits {
		if err := runSplit(ctx, env, cfg, rpn, sp, m); err != nil {
			return err
		}
	}
	return schemas.Write(ctx, env.FS, storage.Join(env.Out, MetricsName), schemas.Metrics, m.rows)
}

// runSplit makes one split's proposals and measures their recall; rpn is
// the resolved RPN of method rpn (nil otherwise).
func runSplit(ctx context.Context, env *stages.Env, cfg configs.Proposals, rpn *rpnSource, sp split, m *metricRows) error {
	out := storage.Join(env.Out, sp.Name)
	start := time.Now()
	var err error
	switch cfg.Method {
	case MethodSelectiveSearch:
		err = runSelectiveSearch(ctx, env, cfg, sp, out)
	case MethodFile:
		err = runFile(ctx, env, cfg, sp, out)
	case MethodRPN:
		err = runRPN(ctx, env, cfg, rpn, sp, out)
	default:
		err = fmt.Errorf("proposals.method %q: no such method", cfg.Method)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start).Seconds()
	rows, boxes, err := recall(ctx, env.FS, sp, out)
	if err != nil {
		return err
	}
	n := float64(len(sp.GT.Images))
	for _, r := range rows {
		m.add(sp.Name, "proposal", r.Name, r.Value)
	}
	if cfg.Method == MethodSelectiveSearch || cfg.Method == MethodRPN {
		// Wall time of the Beam run, startup included, as the model zoo
		// counts data loading in inference speed.
		m.add(sp.Name, "", "images_per_s", n/max(elapsed, 1e-9))
	}
	m.add(sp.Name, "", "proposals_per_image", float64(boxes)/max(n, 1))
	perImage := float64(boxes) / max(n, 1)
	env.Log.Info("proposals", "split", sp.Name, "method", cfg.Method, "images", len(sp.GT.Images),
		"seconds", elapsed, "proposals_per_image", perImage, slog.Group("recall", recallAttrs(rows)...),
		console.Say(fmt.Sprintf("%s proposals of split %s: %d images in %s, %s per image\n%s", cfg.Method, sp.Name,
			len(sp.GT.Images), progress.FormatDuration(time.Duration(elapsed*float64(time.Second))), console.Float(perImage), recallTable(rows))))
	return nil
}

func recallAttrs(rows []coco.Metric) []any {
	var as []any
	for _, r := range rows {
		as = append(as, slog.Float64(r.Name, r.Value))
	}
	return as
}

// recallTable lays recall out for people, names over values:
//
//	AR@100  AR@300  AR@1000
//	0.7115  0.8462  0.8500
func recallTable(rows []coco.Metric) string {
	var names, values strings.Builder
	for _, r := range rows {
		w := max(len(r.Name), 6)
		fmt.Fprintf(&names, "%-*s  ", w, r.Name)
		fmt.Fprintf(&values, "%-*.4f  ", w, r.Value)
	}
	return strings.TrimRight(names.String(), " ") + "\n" + strings.TrimRight(values.String(), " ")
}

func checkConfig(cfg configs.Proposals) error {
	switch cfg.Method {
	case MethodSelectiveSearch, MethodFile, MethodRPN:
	default:
		return fmt.Errorf("proposals.method %q: want %q, %q or %q", cfg.Method, MethodSelectiveSearch, MethodRPN, MethodFile)
	}
	if cfg.TopKTrain < 1 || cfg.TopKTest < 1 {
		return fmt.Errorf("proposals.top_k_train %d and proposals.top_k_test %d: want both >= 1", cfg.TopKTrain, cfg.TopKTest)
	}
	if cfg.MinSize < 0 {
		return fmt.Errorf("proposals.min_size %v: want >= 0", cfg.MinSize)
	}
	return nil
}

// topK is the number of proposals kept per image of a split.
func topK(cfg configs.Proposals, splitName string) int {
	if splitName == "train" {
		return cfg.TopKTrain
	}
	return cfg.TopKTest
}

// runSelectiveSearch runs the Beam pipeline over one split's images with
// the runner chosen by --runner (prism, in process, by default).
func runSelectiveSearch(ctx context.Context, env *stages.Env, cfg configs.Proposals, sp split, out string) error {
	ss := cfg.SelectiveSearch
	opts := SearchOptions{Mode: ss.Mode, BaseK: ss.BaseK, IncK: ss.IncK, Sigma: ss.Sigma, MinRegion: defaultMinRegion,
		MinSize: cfg.MinSize, StorageEndpoint: emulatorEndpoint()}
	if err := opts.check(); err != nil {
		return err
	}
	if err := env.FS.MkdirAll(ctx, out); err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	parts := planParts(sp, out, topK(cfg, sp.Name))
	if len(parts) == 0 {
		return nil
	}
	if !beam.Initialized() {
		// The pipeline CLI and tests are not Beam programs with their own
		// main; beam.Init only runs the registered hooks (the worker
		// harness hook returns at once outside a worker).
		beam.Init()
	}
	p, s := beam.NewPipelineWithRoot()
	SelectiveSearch(s, opts, beam.CreateList(s, parts), len(sp.GT.Images))
	bar := env.Progress.New("selective search "+sp.Name, len(sp.GT.Images))
	stop := watchParts(ctx, env.FS, out, parts, bar.Set)
	err := beamx.Run(ctx, p)
	stop()
	bar.Done()
	if err != nil {
		return fmt.Errorf("selective search on split %q: %w", sp.Name, err)
	}
	return nil
}

// emulatorEndpoint turns STORAGE_EMULATOR_HOST (host:port or a URL), when
// set, into the JSON API endpoint the workers' storage should use: GCS
// emulators answer the JSON API only, and workers may run in processes that
// do not share the driver's environment.
func emulatorEndpoint() string {
	h := os.Getenv("STORAGE_EMULATOR_HOST")
	if h == "" {
		return ""
	}
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	return strings.TrimSuffix(h, "/") + "/storage/v1/"
}

// defaultMinRegion is OpenCV's minimum segment size for selective search.
const defaultMinRegion = 100

func (o SearchOptions) check() error {
	if err := o.selsearch(0).Validate(); err != nil {
		return fmt.Errorf("proposals.selective_search: %w", err)
	}
	return nil
}

// External names the imported proposal files, or the RPN checkpoint that
// proposals.rpn.checkpoint resolves to (a run folder's latest checkpoint):
// a file regenerated at the same path reruns the stage.
func (Stage) External(ctx context.Context, fsys *storage.FS, cfg *configs.Config) (map[string]string, error) {
	p := cfg.Proposals
	switch p.Method {
	case MethodFile:
		out := map[string]string{}
		if p.File.Train != "" {
			out["proposals.file.train"] = p.File.Train
		}
		if p.File.Val != "" {
			out["proposals.file.val"] = p.File.Val
		}
		return out, nil
	case MethodRPN:
		src, err := resolveRPN(ctx, fsys, p.RPN.Checkpoint)
		if err != nil {
			return nil, nil // the stage reports it when it runs
		}
		return map[string]string{"proposals.rpn.checkpoint": src.Checkpoint}, nil
	}
	return nil, nil
}
