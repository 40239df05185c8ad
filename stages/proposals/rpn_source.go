package proposals

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

// Layout of an rpn pipeline run, as the orchestrator and the train stage
// write it: <run>/config.yaml (the resolved config) and
// <run>/train/{epoch_N.safetensors, latest}.
const (
	runConfigName = "config.yaml"
	trainDirName  = "train"
	latestName    = "latest" // holds the newest checkpoint's file name
)

// rpnSource is a resolved proposals.rpn.checkpoint: the checkpoint file and
// the config of the RPN that wrote it. The Fast R-CNN run's own model
// section describes a FastRCNN, so the RPN's architecture, test_cfg and
// image pipeline come from the RPN's config.
type rpnSource struct {
	Checkpoint string // checkpoint file (local or gs://)
	ConfigPath string // the RPN's config.yaml
	Config     *configs.Config
}

// resolveRPN turns the value of proposals.rpn.checkpoint into a checkpoint
// and its config. The value may be
//
//   - the run directory of an rpn pipeline run: its train/latest
//     checkpoint and its config.yaml;
//   - that run's train folder: its latest checkpoint, config.yaml one
//     folder up;
//   - a checkpoint file: config.yaml beside it, else one folder up (the
//     run folder when the file is <run>/train/epoch_N.safetensors).
func resolveRPN(ctx context.Context, fsys *storage.FS, value string) (*rpnSource, error) {
	const key = "proposals.rpn.checkpoint"
	if value == "" {
		return nil, fmt.Errorf("%s is empty: proposals.method %q needs an RPN checkpoint file or the run directory of an rpn pipeline run", key, MethodRPN)
	}
	info, err := fsys.Stat(ctx, value)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", key, value, err)
	}
	var ckpt string
	var configDirs []string
	if info.IsDir {
		trainDir, runDir, err := runFolders(ctx, fsys, value)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", key, value, err)
		}
		if ckpt, err = latestCheckpoint(ctx, fsys, trainDir); err != nil {
			return nil, fmt.Errorf("%s %q: %w", key, value, err)
		}
		configDirs = []string{runDir}
	} else {
		ckpt = value
		configDirs = []string{storage.Dir(value), storage.Dir(storage.Dir(value))}
	}
	cfgPath, err := findConfig(ctx, fsys, configDirs)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", key, value, err)
	}
	cfg, err := loadRunConfig(ctx, fsys, cfgPath)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", key, value, err)
	}
	if cfg.Model.Type != zoo.ModelRPN {
		return nil, fmt.Errorf("%s %q: %s is the config of a %q model (model.type), not an %q: name an rpn pipeline run or one of its checkpoints",
			key, value, cfgPath, cfg.Model.Type, zoo.ModelRPN)
	}
	return &rpnSource{Checkpoint: ckpt, ConfigPath: cfgPath, Config: cfg}, nil
}

// runFolders tells whether dir is a run directory (it has train/latest) or
// a train folder (it has latest) and returns both.
func runFolders(ctx context.Context, fsys *storage.FS, dir string) (trainDir, runDir string, err error) {
	if ok, err := fsys.Exists(ctx, storage.Join(dir, trainDirName, latestName)); err != nil {
		return "", "", err
	} else if ok {
		return storage.Join(dir, trainDirName), dir, nil
	}
	if ok, err := fsys.Exists(ctx, storage.Join(dir, latestName)); err != nil {
		return "", "", err
	} else if ok {
		return dir, storage.Dir(dir), nil
	}
	return "", "", fmt.Errorf("a folder with neither %s/%s nor %s: want an rpn pipeline run directory (after its train stage), its train folder or a checkpoint file",
		trainDirName, latestName, latestName)
}

// latestCheckpoint reads a train folder's latest pointer.
func latestCheckpoint(ctx context.Context, fsys *storage.FS, trainDir string) (string, error) {
	p := storage.Join(trainDir, latestName)
	b, err := fsys.ReadFile(ctx, p)
	if err != nil {
		return "", fmt.Errorf("read latest checkpoint pointer: %w", err)
	}
	name := strings.TrimSpace(string(b))
	if name == "" || strings.ContainsAny(name, "/\\") {
		return "", fmt.Errorf("%s names %q: want a checkpoint file name in that folder", p, name)
	}
	return storage.Join(trainDir, name), nil
}

// findConfig returns the first dirs[i]/config.yaml that exists.
func findConfig(ctx context.Context, fsys *storage.FS, dirs []string) (string, error) {
	var tried []string
	for _, d := range dirs {
		p := storage.Join(d, runConfigName)
		ok, err := fsys.Exists(ctx, p)
		if err != nil {
			return "", err
		}
		if ok {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("no RPN config found (tried %s): the RPN's architecture is read from the config.yaml of the run that trained it", strings.Join(tried, ", "))
}

// loadRunConfig loads a saved, resolved config; configs.Load reads local
// files, so a gs:// one is copied to a temporary folder first.
func loadRunConfig(ctx context.Context, fsys *storage.FS, p string) (*configs.Config, error) {
	local := p
	if storage.IsGCS(p) {
		dir, err := os.MkdirTemp("", "detflow-rpn-config-*")
		if err != nil {
			return nil, fmt.Errorf("copy RPN config: %w", err)
		}
		defer os.RemoveAll(dir)
		b, err := fsys.ReadFile(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("read RPN config: %w", err)
		}
		local = filepath.Join(dir, runConfigName)
		if err := os.WriteFile(local, b, 0o644); err != nil {
			return nil, fmt.Errorf("copy RPN config %s: %w", p, err)
		}
	}
	cfg, err := configs.Load(local, nil)
	if err != nil {
		return nil, fmt.Errorf("load RPN config %s: %w", p, err)
	}
	return cfg, nil
}

// loadRPN builds the RPN its config describes on e and loads a checkpoint
// into it, in inference mode. A checkpoint whose weights do not line up
// with the architecture (missing or unexpected keys, or shapes) fails.
func loadRPN(ctx context.Context, fsys *storage.FS, cfg *configs.Config, checkpoint string, e *tensor.Engine) (detector.Detector, error) {
	d, err := detector.Build(e, cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	local, cleanup, err := fsys.Localize(ctx, checkpoint)
	if err != nil {
		return nil, err
	}
	_, rep, err := nn.LoadCheckpoint(ctx, local, d, nil)
	if cerr := cleanup(); err == nil && cerr != nil {
		err = fmt.Errorf("remove checkpoint copy: %w", cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("load RPN checkpoint %s: %w", checkpoint, err)
	}
	if !rep.Clean() {
		return nil, fmt.Errorf("RPN checkpoint %s does not match the RPN its config describes: %s", checkpoint, rep)
	}
	nn.SetTraining(d, false)
	return d, nil
}
