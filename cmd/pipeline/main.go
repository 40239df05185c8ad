// Command pipeline runs detflow's object-detection experiments as staged
// pipelines: `pipeline run fast_rcnn_with_proposals`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/spf13/pflag"
)

// command is one subcommand; each lives in its own file.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run a pipeline: pipeline run NAME", cmdRun},
		{"stages", "list a pipeline's stages and whether each would run", cmdStages},
		{"status", "show the runs in the work directory and their stages", cmdStatus},
		{"data", "data set tools: pipeline data synth --out DIR", cmdData},
		{"coco-eval", "evaluate a COCO results file against ground truth", cmdCocoEval},
		{"query", "run SQL over every run's tables: pipeline query \"SQL\"", cmdQuery},
		{"metrics", "print a run's COCO summaries, recall, speed and memory", cmdMetrics},
		{"compare", "put runs' metrics side by side: pipeline compare R1 R2 ...", cmdCompare},
		{"zoo", "print the runs as MMDetection MODEL_ZOO.md tables", cmdZoo},
		{"export", "write a run's weights for torchvision or as safetensors", cmdExport},
		{"plot", "draw a run's loss and mAP curves to PNG: pipeline plot RUN", cmdPlot},
		{"show", "draw ground truth and detections on images: pipeline show RUN", cmdShow},
		{"analyze", "write a run's error analysis and confusion matrix: pipeline analyze RUN", cmdAnalyze},
		{"report", "write a run's self-contained HTML report: pipeline report RUN", cmdReport},
		{"devices", "show the GPUs, CUDA libraries and kernels --devices can use", cmdDevices},
		{"version", "print the version", cmdVersion},
	}
}

// errUsage marks errors that should print the command's usage (exit 2).
var errUsage = errors.New("usage")

func main() {
	if isBeamWorker(os.Args[1:]) {
		// Beam starts this same binary as a worker with its own flags;
		// beam.Init runs the worker harness and does not return.
		flag.Parse()
		beam.Init()
		return
	}
	beam.Init() // not a worker: this only marks Beam initialised
	os.Exit(runProcess(os.Args[1:]))
}

// runProcess runs the command line as the process: Ctrl-C or SIGTERM
// cancels the run, which then stops cleanly; a second one kills at once.
func runProcess(args []string) int {
	// Beam's runners log every job transition through the default logger;
	// stages log to their own loggers, so keep the default to warnings.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	return Main(ctx, args, os.Stdout, os.Stderr)
}

func isBeamWorker(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		return a == "--worker" || a == "-worker" || strings.HasPrefix(a, "--worker=") || strings.HasPrefix(a, "-worker=")
	})
}

// Main runs the command line args and returns the exit code: 0 on success,
// 1 on failure, 2 on a usage error, 130 when interrupted.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return Main(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil || errors.Is(err, pflag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "pipeline %s: %v\n", c.name, err)
			return 2
		case errors.Is(err, errInterrupted):
			fmt.Fprintf(stderr, "pipeline %s: %v\n", c.name, err)
			return 130 // as a shell reports a command ended by SIGINT
		default:
			fmt.Fprintf(stderr, "pipeline %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "pipeline: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "pipeline runs object-detection experiments as staged, resumable pipelines.")
	fmt.Fprintln(w, "\nUsage:\n  pipeline COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n"+pipelineList())
	fmt.Fprintln(w, "\nRun 'pipeline COMMAND --help' for a command's flags.")
}

// newFlags makes a subcommand's flag set; usage prints its synopsis first.
func newFlags(name, synopsis string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n%s", synopsis, fs.FlagUsages())
	}
	return fs
}

// parse parses args, turning flag errors into usage errors.
func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
