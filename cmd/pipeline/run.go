package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"

	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx" // registers --runner
	"github.com/spf13/pflag"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/console"
	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/pipelines"
	"github.com/detflow/detflow/progress"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/zoo"
)

// runFlags are the flags shared by `run` and `stages`.
type runFlags struct {
	config    string
	sets      []string
	precision string
	run       string
	workdir   string
	stages    []string
	from      string
	force     bool
	verify    bool
	dryRun    bool
	devices   string
	progress  string
	logFormat string
	verbose   bool
}

func (f *runFlags) register(fs *pflag.FlagSet, withExec bool) {
	fs.StringVar(&f.config, "config", "", "config: an embedded name or a YAML file (default: the pipeline's default config)")
	fs.StringArrayVar(&f.sets, "set", nil, "override a config key, e.g. --set train.lr=0.01 (repeatable)")
	fs.StringVar(&f.precision, "precision", "", "train.precision for training and evaluation: fp32, tf32, fp16 or bf16 (overrides the config and DETFLOW_TF32)")
	fs.StringVar(&f.run, "run", "", "run name (default: the config's name)")
	fs.StringVar(&f.workdir, "workdir", "runs", "work directory holding one folder per run (local path or gs://bucket/dir)")
	fs.StringSliceVar(&f.stages, "stages", nil, "run only these stages (comma separated), if out of date")
	fs.StringVar(&f.from, "from", "", "rerun this stage and every stage downstream of it")
	fs.BoolVar(&f.force, "force", false, "rerun the selected stages even when up to date")
	fs.BoolVar(&f.verify, "verify", false, "check the SHA-256 of published outputs, not only their sizes")
	if withExec {
		fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan with reasons and run nothing")
		fs.StringVar(&f.devices, "devices", "cpu:1", "devices for training and inference: cpu:N (N replicas) or cuda:0,1,...")
		fs.StringVar(&f.progress, "progress", "auto", "progress bars: auto (on a terminal), always or never")
		fs.StringVar(&f.logFormat, "log-format", "auto", "log lines on stderr: text (for people), logfmt or json (full precision); auto: text on a terminal, else logfmt")
		fs.BoolVar(&f.verbose, "verbose", false, "show a failed Beam job's whole plan, not only its cause")
	}
}

// addBeamFlags makes Beam's runner options (--runner, --endpoint, --project,
// ...) settable on our command line. They are hidden from the main flag list
// and summarised at the end of --help.
func addBeamFlags(fs *pflag.FlagSet) {
	before := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { before[f.Name] = true })
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Name, "test.") && fs.Lookup(f.Name) == nil { // go test's own flags
			fs.AddGoFlag(f)
		}
	})
	var beamNames []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !before[f.Name] {
			f.Hidden = true
			beamNames = append(beamNames, "--"+f.Name)
		}
	})
	sort.Strings(beamNames)
	inner := fs.Usage
	fs.Usage = func() {
		inner()
		fmt.Fprintf(fs.Output(), "\nApache Beam options for the data-parallel stages (default runner: prism, in process):\n  %s\n",
			wrap(strings.Join(beamNames, " "), 76, "  "))
	}
}

func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		if i > 0 && n+len(w)+1 > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// pipelineList describes the registry's pipelines for help texts.
func pipelineList() string {
	var b strings.Builder
	b.WriteString("Pipelines (--config takes any embedded config by name, or a YAML file):\n")
	for _, p := range zoo.Pipelines() {
		fmt.Fprintf(&b, "  %-24s %s\n", p.Name, p.Doc)
		fmt.Fprintf(&b, "  %-24s default config %s; model zoo: %s\n", "", p.Config, strings.Join(p.Zoo, ", "))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f runFlags
	fs := newFlags("run", "pipeline run NAME [flags]\n\n"+pipelineList(), stderr)
	f.register(fs, true)
	addBeamFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one pipeline name (one of %s)", errUsage, strings.Join(pipelines.Builtin().Names(), ", "))
	}
	job, err := prepare(ctx, fs.Arg(0), &f)
	if err != nil {
		return err
	}
	defer job.fsys.Close()
	job.opts.Stdout, job.opts.Stderr = stdout, stderr
	res, err := execute(ctx, job)
	if f.dryRun && res != nil {
		if perr := pipelines.PrintPlan(stdout, res.Plan); perr != nil {
			return perr
		}
		return err
	}
	if res != nil && len(res.Stages) > 0 {
		fmt.Fprintln(stdout)
		pipelines.PrintSummary(stdout, res)
	}
	if err != nil && ctx.Err() != nil {
		return interrupted(job, res)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run %q done: %s\n", job.opts.Run, pipelines.RunDir(job.opts.Workdir, job.opts.Run))
	return nil
}

// execute runs the job with one set of bars shared by the stages' loggers
// and the default logger (Beam's runners warn through it), so nothing
// written to stderr lands on a bar's line. The bars are closed before the
// summary goes to stdout.
func execute(ctx context.Context, j *job) (*pipelines.Result, error) {
	bars := progress.NewFactory(j.opts.Stderr, j.opts.Progress)
	defer bars.Close()
	j.opts.Bars = bars
	prev := slog.Default()
	var beamLog slog.Handler = console.NewHandler(bars.Writer(), console.Options{
		Format: j.opts.LogFormat, Level: slog.LevelWarn, Stage: "beam", Terminal: progress.IsTerminal(j.opts.Stderr),
	})
	if !j.opts.Verbose {
		beamLog = planDumpFilter{beamLog}
	}
	slog.SetDefault(slog.New(beamLog))
	defer slog.SetDefault(prev)
	return pipelines.Execute(ctx, j.fsys, j.pipeline, j.cfg, j.opts)
}

// errInterrupted is a run stopped by Ctrl-C or SIGTERM (exit 130).
var errInterrupted = errors.New("interrupted")

// interrupted explains what an interrupted run kept and how to resume it.
func interrupted(j *job, res *pipelines.Result) error {
	stage, kept := "the current stage", ""
	if res != nil && len(res.Stages) > 0 && res.Stages[len(res.Stages)-1].Outcome == "failed" {
		name := res.Stages[len(res.Stages)-1].Name
		stage = fmt.Sprintf("stage %q", name)
		if name == "train" {
			kept = " (its epoch checkpoints are kept: training resumes from the last)"
		}
	}
	return fmt.Errorf("%w: %s stopped and its partial outputs were discarded%s; stages finished before are kept.\n"+
		"To resume, run the same command again:\n  %s", errInterrupted, stage, kept, shellQuote(j.opts.Command))
}

// shellQuote joins args so that a shell reads them back as they were.
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func cmdStages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f runFlags
	fs := newFlags("stages", "pipeline stages NAME [flags]\n\nLists the stages of a pipeline and, for the run, whether each is up to date, would run, or misses an input, and why.", stderr)
	f.register(fs, false)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one pipeline name (one of %s)", errUsage, strings.Join(pipelines.Builtin().Names(), ", "))
	}
	job, err := prepare(ctx, fs.Arg(0), &f)
	if err != nil {
		return err
	}
	defer job.fsys.Close()
	plan, err := pipelines.MakePlan(ctx, job.fsys, job.pipeline, job.cfg, pipelines.RunDir(job.opts.Workdir, job.opts.Run), job.opts.Selection)
	if err != nil {
		return err
	}
	plan.Run = job.opts.Run
	return pipelines.PrintPlan(stdout, plan)
}

// job is a resolved `run` or `stages` invocation.
type job struct {
	fsys     *storage.FS
	pipeline *pipelines.Pipeline
	cfg      *configs.Config
	opts     pipelines.Options
}

func prepare(ctx context.Context, name string, f *runFlags) (*job, error) {
	p, err := pipelines.Builtin().Lookup(name)
	if err != nil {
		return nil, err
	}
	cfgName := f.config
	if cfgName == "" {
		if cfgName, err = configs.PipelineConfig(p.Name); err != nil {
			return nil, err
		}
	}
	cfg, err := configs.Load(cfgName, f.sets)
	if err != nil {
		return nil, err
	}
	set, why, err := precisionSet(f.precision, cfg.Train.Precision, os.Getenv)
	if err != nil {
		return nil, err
	}
	if set != "" {
		if cfg, err = configs.Load(cfgName, append(slices.Clone(f.sets), set)); err != nil {
			return nil, err
		}
		slog.Info("precision set", "by", why, "train.precision", cfg.Train.Precision)
	}
	if cfg.Pipeline != "" && cfg.Pipeline != p.Name {
		return nil, fmt.Errorf("config %q is for pipeline %q, not %q", cfgName, cfg.Pipeline, p.Name)
	}
	opts := pipelines.Options{
		Workdir: f.workdir, Run: f.run,
		Selection: pipelines.Selection{Stages: f.stages, From: f.from, Force: f.force, Verify: f.verify},
		DryRun:    f.dryRun, Verbose: f.verbose, Version: version(), Command: append([]string{"pipeline"}, os.Args[1:]...),
	}
	if opts.Run == "" {
		opts.Run = cfg.Name
	}
	if err := checkRunName(opts.Run); err != nil {
		return nil, err
	}
	if f.devices != "" {
		if opts.Devices, err = stages.ParseDevices(f.devices); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if opts.Devices.Kind == "cuda" {
			if err := gpu.Check(opts.Devices.CUDA); err != nil {
				return nil, fmt.Errorf("--devices %s: %w", opts.Devices, err)
			}
		}
	}
	if f.progress != "" {
		if opts.Progress, err = progress.ParseMode(f.progress); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	if f.logFormat != "" {
		if opts.LogFormat, err = console.ParseFormat(f.logFormat); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		return nil, err
	}
	return &job{fsys: fsys, pipeline: p, cfg: cfg, opts: opts}, nil
}

// checkRunName keeps run names to one plain path element.
func checkRunName(run string) error {
	if run == "" || run == "." || run == ".." || strings.ContainsAny(run, `/\`) || strings.HasPrefix(run, ".") {
		return fmt.Errorf("%w: run name %q must be one plain folder name (no slashes, not starting with a dot)", errUsage, run)
	}
	return nil
}
