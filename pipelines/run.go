package pipelines

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/console"
	"github.com/detflow/detflow/progress"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// Options configure one run of a pipeline.
type Options struct {
	Workdir   string // holds one folder per run
	Run       string // the run's name
	Selection Selection
	DryRun    bool
	Devices   stages.Devices
	Progress  progress.Mode
	LogFormat console.Format // of the log lines on Stderr; files under logs/ are always JSON
	Stdout    io.Writer      // plan and summary
	Verbose   bool           // errors from Beam stages keep the job's plan dump
	Stderr    io.Writer      // logs and progress bars
	Version   string         // detflow's version, recorded in manifests
	Command   []string       // the command line, recorded in run.json
	// Bars, if set, draws the progress bars and keeps log lines above them
	// (the CLI shares it with its own logger); else one is made on Stderr.
	Bars *progress.Factory
}

// Result is what happened to each stage of a run.
type Result struct {
	Plan    *Plan
	Stages  []StageResult
	Elapsed time.Duration
}

// StageResult is one row of the end-of-run summary.
type StageResult struct {
	Name    string
	Outcome string // ran, skipped, failed, not selected
	Elapsed time.Duration
	Files   int
	Bytes   int64
	Note    string
}

// RunDir is where a run's folder lives.
func RunDir(workdir, run string) string { return storage.Join(workdir, run) }

// Execute runs p under opts: it locks the run directory, saves the resolved
// config, then runs each selected stage that is out of date and publishes its
// outputs atomically, manifest last. It stops at the first failing stage;
// everything published before stays intact.
func Execute(ctx context.Context, fsys *storage.FS, p *Pipeline, cfg *configs.Config, opts Options) (*Result, error) {
	start := time.Now()
	runDir := RunDir(opts.Workdir, opts.Run)
	// Argument errors first: a typo in --stages must not create the run
	// folder and its lock.
	if _, _, err := p.selectStages(opts.Selection); err != nil {
		return nil, err
	}
	if !storage.IsGCS(runDir) && !opts.DryRun {
		lock, err := lockRunDir(runDir)
		if err != nil {
			return nil, err
		}
		defer lock.unlock()
		// Holding the lock, anything left in .tmp or .trash is debris of a
		// killed run: never published, safe to delete.
		for _, d := range []string{".tmp", ".trash"} {
			if err := fsys.RemoveAll(ctx, storage.Join(runDir, d)); err != nil {
				return nil, fmt.Errorf("clean up %s: %w", d, err)
			}
		}
	}
	plan, err := MakePlan(ctx, fsys, p, cfg, runDir, opts.Selection)
	if err != nil {
		return nil, err
	}
	plan.Run = opts.Run
	res := &Result{Plan: plan}
	if opts.DryRun {
		return res, plan.Blocked()
	}
	if err := plan.Blocked(); err != nil {
		return res, err
	}
	if err := saveRunFiles(ctx, fsys, runDir, cfg, p, opts); err != nil {
		return res, err
	}
	bars := opts.Bars
	if bars == nil {
		bars = progress.NewFactory(opts.Stderr, opts.Progress)
		defer bars.Close()
	}
	for _, step := range plan.Steps {
		sr, err := executeStep(ctx, fsys, plan, step, cfg, opts, bars)
		res.Stages = append(res.Stages, sr)
		if err != nil {
			res.Elapsed = time.Since(start)
			return res, err
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// executeStep runs one step if it is selected and still out of date.
func executeStep(ctx context.Context, fsys *storage.FS, plan *Plan, step *Step, cfg *configs.Config, opts Options, bars *progress.Factory) (StageResult, error) {
	name := step.Stage.Name()
	sr := StageResult{Name: name}
	if !step.Selected {
		sr.Outcome = "not selected"
		return sr, nil
	}
	// Upstream stages may have just been republished: decide again with their
	// real digests. A rebuild that reproduced identical outputs skips this one.
	reasons, err := staleness(ctx, fsys, plan, step, opts.Selection.Verify)
	if err != nil {
		return sr, fmt.Errorf("stage %q: %w", name, err)
	}
	if len(reasons) == 0 && !step.Forced {
		sr.Outcome, sr.Note = "skipped", "up to date"
		if step.Action == WillRun {
			sr.Note = "up to date: rebuilt inputs are unchanged"
		}
		step.Action = UpToDate
		sr.Files, sr.Bytes = countOutputs(step.Manifest)
		return sr, nil
	}
	if step.Forced {
		reasons = append([]string{"forced"}, reasons...)
	}
	t0 := time.Now()
	m, err := runAndPublish(ctx, fsys, plan, step, cfg, opts, reasons, bars)
	sr.Elapsed = time.Since(t0)
	if err != nil {
		sr.Outcome = "failed"
		return sr, fmt.Errorf("stage %q: %w", name, err)
	}
	step.Manifest, step.Action = m, UpToDate // freshly published
	sr.Outcome = "ran"
	sr.Files, sr.Bytes = countOutputs(m)
	if err := updateRunJSON(ctx, fsys, plan.RunDir, name, m); err != nil {
		return sr, err
	}
	return sr, nil
}

func countOutputs(m *rundir.Manifest) (int, int64) {
	if m == nil {
		return 0, 0
	}
	var n int64
	for _, o := range m.Outputs {
		n += o.Size
	}
	return len(m.Outputs), n
}

// runAndPublish runs the stage into a fresh folder and publishes it.
//
// Local run directories: the stage writes to .tmp/<stage>-<rand>; the manifest
// is written there last, then the folder is swapped in with renames, so a
// crash leaves either the old complete folder or none. On gs://, where
// folders cannot be renamed, the old manifest is deleted first and the new
// one written last, so a crash leaves no manifest over partial outputs.
func runAndPublish(ctx context.Context, fsys *storage.FS, plan *Plan, step *Step, cfg *configs.Config, opts Options, reasons []string, bars *progress.Factory) (_ *rundir.Manifest, err error) {
	name := step.Stage.Name()
	log, closeLog, err := stageLogger(plan.RunDir, name, storage.IsGCS(plan.RunDir), consoleHandler(opts, bars, name))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, closeLog()) }()
	log.Info("stage start", "stage", name, "reasons", reasons, console.Say("start: "+strings.Join(reasons, "; ")))

	out := step.Dir
	if storage.IsGCS(plan.RunDir) {
		if err := fsys.Remove(ctx, storage.Join(out, rundir.ManifestName)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("invalidate old outputs: %w", err)
		}
		if err := fsys.RemoveAll(ctx, out); err != nil {
			return nil, fmt.Errorf("clear old outputs: %w", err)
		}
	} else {
		out = storage.Join(plan.RunDir, ".tmp", name+"-"+randomSuffix())
		defer func() {
			if err != nil {
				err = errors.Join(err, fsys.RemoveAll(context.WithoutCancel(ctx), out))
			}
		}()
	}
	if err := fsys.MkdirAll(ctx, out); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	inputs := map[string]string{}
	for _, in := range step.Inputs {
		inputs[in] = plan.Step(in).Manifest.Digest
	}
	external := externalDigests(step.External)
	fp := fingerprint(name, step.Stage.Version(), step.Config, inputs, external)
	env := &stages.Env{
		FS: fsys, Config: cfg, Run: plan.Run, RunDir: plan.RunDir, Out: out,
		Work:   storage.Join(plan.RunDir, ".work", name+"-"+fp[:16]),
		Inputs: map[string]string{}, Devices: opts.Devices, Log: log, Progress: bars,
	}
	for _, in := range step.Inputs {
		env.Inputs[in] = plan.Step(in).Dir
	}
	// Stages share the process: return what the previous ones left to the
	// OS, or the last stage's footprint sits on top of theirs (evaluate
	// after train peaked at 1.3 GB where either alone stays under 0.95).
	debug.FreeOSMemory()
	started := time.Now().UTC()
	cleanTemp, terr := privateTempDir()
	if terr != nil { // only tidiness is lost
		log.Warn("no private temp folder for the stage", "err", terr)
		cleanTemp = func() error { return nil }
	}
	stopMemory := watchMemory(name, log)
	err = step.Stage.Run(ctx, env)
	peakMiB := stopMemory()
	if cerr := cleanTemp(); cerr != nil {
		log.Warn("clean up the stage's temp folder", "err", cerr)
	}
	if err != nil {
		if ctx.Err() != nil {
			log.Warn("stage interrupted", "stage", name, "err", err) // not the stage's fault
			return nil, err
		}
		return nil, stageError(log, name, err, opts.Verbose)
	}
	outs, err := hashOutputs(ctx, fsys, out)
	if err != nil {
		return nil, err
	}
	finished := time.Now().UTC()
	m := &rundir.Manifest{
		Stage: name, Version: step.Stage.Version(),
		Fingerprint: fp,
		Config:      step.Config, Inputs: inputs, External: step.External, Outputs: outs, Digest: publishedDigest(outs, external),
		Started: started, Finished: finished, Seconds: finished.Sub(started).Seconds(), Detflow: opts.Version,
		PeakRSSMiB: peakMiB, Info: env.Info,
	}
	if err := writeJSON(ctx, fsys, storage.Join(out, rundir.ManifestName), m); err != nil {
		return nil, err
	}
	if !storage.IsGCS(plan.RunDir) {
		if err := swapIn(ctx, fsys, plan.RunDir, out, step.Dir); err != nil {
			return nil, err
		}
	}
	// Published: the stage's resumable scratch (e.g. checkpoints) is spent,
	// and so is that of any earlier configuration of this stage.
	if err := removeWork(ctx, fsys, plan.RunDir, name); err != nil {
		return nil, err
	}
	log.Info("stage done", "stage", name, "outputs", len(outs), "seconds", m.Seconds, "peak_rss_mib", m.PeakRSSMiB,
		console.Say(fmt.Sprintf("done: %d outputs in %s", len(outs), progress.FormatDuration(finished.Sub(started).Round(time.Millisecond)))))
	return m, nil
}

// stageError logs a failed stage's error and returns what the user sees:
// a Beam job's failure cut to its cause unless verbose; the plan dump goes
// to the stage log file either way.
func stageError(log *slog.Logger, name string, err error, verbose bool) error {
	var be *stages.BeamError
	if short := stages.CondenseBeamError(err); errors.As(short, &be) {
		log.Debug("beam job failed", "stage", name, "job", be.Plan)
		if !verbose {
			err = short
		}
	}
	log.Error("stage failed", "stage", name, "err", err)
	return err
}

// swapIn replaces the published folder dst by src with renames; the old
// folder goes to .trash first and is deleted after.
func swapIn(ctx context.Context, fsys *storage.FS, runDir, src, dst string) error {
	trash := storage.Join(runDir, ".trash", filepath.Base(dst)+"-"+randomSuffix())
	if _, err := fsys.Stat(ctx, dst); err == nil {
		if err := fsys.MkdirAll(ctx, storage.Join(runDir, ".trash")); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		if err := fsys.Rename(ctx, dst, trash); err != nil {
			return fmt.Errorf("publish: move old outputs aside: %w", err)
		}
	}
	if err := fsys.Rename(ctx, src, dst); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return fsys.RemoveAll(ctx, trash)
}

// removeWork deletes every .work folder of stage name.
func removeWork(ctx context.Context, fsys *storage.FS, runDir, name string) error {
	dir := storage.Join(runDir, ".work")
	entries, err := fsys.List(ctx, dir)
	if err != nil {
		return fmt.Errorf("clean up work folders: %w", err)
	}
	for _, e := range entries {
		if e.IsDir && strings.HasPrefix(e.Name, name+"-") {
			if err := fsys.RemoveAll(ctx, storage.Join(dir, e.Name)); err != nil {
				return fmt.Errorf("clean up work folder %s: %w", e.Name, err)
			}
		}
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// consoleHandler writes a stage's info lines to stderr above the bars, in
// the format --log-format chose.
func consoleHandler(opts Options, bars *progress.Factory, stage string) slog.Handler {
	return console.NewHandler(bars.Writer(), console.Options{
		Format: opts.LogFormat, Level: slog.LevelInfo, Stage: stage, Terminal: progress.IsTerminal(opts.Stderr),
	})
}

// stageLogger logs to runs/<run>/logs/<stage>.log (JSON, full precision,
// debug level) and to the console handler. On gs:// only the console gets
// the lines.
func stageLogger(runDir, stage string, gcs bool, console slog.Handler) (*slog.Logger, func() error, error) {
	if gcs {
		return slog.New(console), func() error { return nil }, nil
	}
	dir := filepath.Join(runDir, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create log folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, stage+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open stage log: %w", err)
	}
	file := slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(slog.NewMultiHandler(console, file)), f.Close, nil
}

func saveRunFiles(ctx context.Context, fsys *storage.FS, runDir string, cfg *configs.Config, p *Pipeline, opts Options) error {
	y, err := cfg.YAML()
	if err != nil {
		return fmt.Errorf("resolve config: %w", err)
	}
	if _, err := fsys.WriteFile(ctx, storage.Join(runDir, "config.yaml"), y); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	ri, err := rundir.ReadInfo(ctx, fsys, runDir)
	if err != nil {
		ri = &rundir.Info{Run: opts.Run, Created: time.Now().UTC(), Stages: map[string]rundir.StageRecord{}}
	}
	ri.Pipeline, ri.Config, ri.Command, ri.Detflow = p.Name, cfg.Name, opts.Command, opts.Version
	ri.Updated = time.Now().UTC()
	return writeJSON(ctx, fsys, storage.Join(runDir, "run.json"), ri)
}

func updateRunJSON(ctx context.Context, fsys *storage.FS, runDir, stage string, m *rundir.Manifest) error {
	ri, err := rundir.ReadInfo(ctx, fsys, runDir)
	if err != nil {
		return err
	}
	if ri.Stages == nil {
		ri.Stages = map[string]rundir.StageRecord{}
	}
	ri.Stages[stage] = rundir.StageRecord{Finished: m.Finished, Seconds: m.Seconds, Digest: m.Digest}
	ri.Updated = time.Now().UTC()
	return writeJSON(ctx, fsys, storage.Join(runDir, "run.json"), ri)
}

func writeJSON(ctx context.Context, fsys *storage.FS, p string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", p, err)
	}
	if _, err := fsys.WriteFile(ctx, p, append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}
