package pipelines

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/stages"
)

func TestSecondRunSkipsEverything(t *testing.T) {
	ctx := context.Background()
	work, counter := t.TempDir(), filepath.Join(t.TempDir(), "count")
	fsys, p, cfg := newFS(t), testPipeline(t, counter, nil), loadConfig(t)
	if _, err := Execute(ctx, fsys, p, cfg, testOptions(work)); err != nil {
		t.Fatal(err)
	}
	if got := runsOf(t, counter); !slices.Equal(got, p.StageNames()) {
		t.Fatalf("first run ran %v, want all stages", got)
	}
	res, err := Execute(ctx, fsys, p, cfg, testOptions(work))
	if err != nil {
		t.Fatal(err)
	}
	if got := runsOf(t, counter); len(got) != 0 {
		t.Fatalf("second run ran %v, want nothing", got)
	}
	for _, s := range res.Stages {
		if s.Outcome != "skipped" {
			t.Errorf("stage %s: outcome %q, want skipped", s.Name, s.Outcome)
		}
	}
	publishedOK(t, fsys, filepath.Join(work, "r1"), p.StageNames())
}

func TestConfigChangeRerunsOnlyDownstream(t *testing.T) {
	ctx := context.Background()
	work, counter := t.TempDir(), filepath.Join(t.TempDir(), "count")
	fsys, p := newFS(t), testPipeline(t, counter, nil)
	if _, err := Execute(ctx, fsys, p, loadConfig(t), testOptions(work)); err != nil {
		t.Fatal(err)
	}
	runsOf(t, counter)
	cfg := loadConfig(t, "train.lr=0.0123")
	opts := testOptions(work)
	opts.DryRun = true
	res, err := Execute(ctx, fsys, p, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	PrintPlan(&b, res.Plan)
	for _, want := range []string{"config key train.lr changed", "input train will be rebuilt"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("dry-run plan lacks %q:\n%s", want, b.String())
		}
	}
	if got := runsOf(t, counter); len(got) != 0 {
		t.Fatalf("dry run ran %v", got)
	}
	if _, err := Execute(ctx, fsys, p, cfg, testOptions(work)); err != nil {
		t.Fatal(err)
	}
	if got, want := runsOf(t, counter), []string{"train", "evaluate"}; !slices.Equal(got, want) {
		t.Fatalf("after changing train.lr ran %v, want %v", got, want)
	}
}

func TestDeletedOutputRerunsItsStage(t *testing.T) {
	ctx := context.Background()
	work, counter := t.TempDir(), filepath.Join(t.TempDir(), "count")
	fsys, p, cfg := newFS(t), testPipeline(t, counter, nil), loadConfig(t)
	if _, err := Execute(ctx, fsys, p, cfg, testOptions(work)); err != nil {
		t.Fatal(err)
	}
	runsOf(t, counter)
	if err := os.Remove(filepath.Join(work, "r1", "records", "part", "001.bin")); err != nil {
		t.Fatal(err)
	}
	plan, err := MakePlan(ctx, fsys, p, cfg, filepath.Join(work, "r1"), Selection{})
	if err != nil {
		t.Fatal(err)
	}
	if s := plan.Step("records"); s.Action != WillRun || !strings.Contains(strings.Join(s.Reasons, ";"), "output missing: part/001.bin") {
		t.Fatalf("records: %v %v, want will run because output missing", s.Action, s.Reasons)
	}
	res, err := Execute(ctx, fsys, p, cfg, testOptions(work))
	if err != nil {
		t.Fatal(err)
	}
	// records is deterministic: rebuilding it reproduces the same outputs,
	// so train and evaluate stay up to date.
	if got := runsOf(t, counter); !slices.Equal(got, []string{"records"}) {
		t.Fatalf("ran %v, want only records", got)
	}
	if s := res.Stages[3]; s.Name != "train" || !strings.Contains(s.Note, "unchanged") {
		t.Errorf("train: %+v, want skipped as inputs unchanged", s)
	}
	publishedOK(t, fsys, filepath.Join(work, "r1"), p.StageNames())
}

func TestStagesWithMissingInputNamesStageToRunFirst(t *testing.T) {
	ctx := context.Background()
	work, counter := t.TempDir(), filepath.Join(t.TempDir(), "count")
	fsys, p, cfg := newFS(t), testPipeline(t, counter, nil), loadConfig(t)
	opts := testOptions(work)
	opts.Selection.Stages = []string{"evaluate"}
	_, err := Execute(ctx, fsys, p, cfg, opts)
	if err == nil || !strings.Contains(err.Error(), `needs stage "dataset"`) || !strings.Contains(err.Error(), `--stages dataset`) {
		t.Fatalf("error = %v, want it to name dataset as the stage to run first", err)
	}
	if got := runsOf(t, counter); len(got) != 0 {
		t.Fatalf("blocked run ran %v", got)
	}
	// With everything but train published, the error names train.
	opts.Selection.Stages = nil
	if _, err := Execute(ctx, fsys, p, cfg, opts); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(work, "r1", "train")); err != nil {
		t.Fatal(err)
	}
	opts.Selection.Stages = []string{"evaluate"}
	_, err = Execute(ctx, fsys, p, cfg, opts)
	if err == nil || !strings.Contains(err.Error(), `needs stage "train"`) {
		t.Fatalf("error = %v, want it to name train", err)
	}
}

// TestOptionalInputThatHasNotRunIsLeftOut: evaluate, whose train input is
// optional (model.load_from set), runs without train, is then up to date,
// and reruns reading train once train has run.
func TestOptionalInputThatHasNotRunIsLeftOut(t *testing.T) {
	ctx := context.Background()
	work, counter := t.TempDir(), filepath.Join(t.TempDir(), "count")
	p := testPipeline(t, counter, func(s *testStage) {
		if s.name == "evaluate" {
			s.optional = []string{"train"}
		}
	})
	fsys, cfg := newFS(t), loadConfig(t)
	opts := testOptions(work)
	opts.Selection.Stages = []string{"dataset", "proposals", "records", "evaluate"}
	for i, want := range [][]string{{"dataset", "proposals", "records", "evaluate"}, nil} {
		if _, err := Execute(ctx, fsys, p, cfg, opts); err != nil {
			t.Fatal(err)
		}
		if got := runsOf(t, counter); !slices.Equal(got, want) {
			t.Fatalf("run %d ran %v, want %v", i+1, got, want)
		}
	}
	opts.Selection.Stages = nil
	if _, err := Execute(ctx, fsys, p, cfg, opts); err != nil {
		t.Fatal(err)
	}
	if got := runsOf(t, counter); !slices.Equal(got, []string{"train", "evaluate"}) {
		t.Fatalf("with train ran %v, want train, evaluate", got)
	}
}

func TestFromRerunsStageAndDownstream(t *testing.T) {
	ctx := context.Background()
	work, counter := t.TempDir(), filepath.Join(t.TempDir(), "count")
	fsys, p, cfg := newFS(t), testPipeline(t, counter, nil), loadConfig(t)
	if _, err := Execute(ctx, fsys, p, cfg, testOptions(work)); err != nil {
		t.Fatal(err)
	}
	runsOf(t, counter)
	opts := testOptions(work)
	opts.Selection.From = "records"
	if _, err := Execute(ctx, fsys, p, cfg, opts); err != nil {
		t.Fatal(err)
	}
	// records is forced; it reproduces its outputs, so downstream skips.
	if got := runsOf(t, counter); !slices.Equal(got, []string{"records"}) {
		t.Fatalf("--from records ran %v", got)
	}
	opts.Selection.Force = true
	if _, err := Execute(ctx, fsys, p, cfg, opts); err != nil {
		t.Fatal(err)
	}
	if got, want := runsOf(t, counter), []string{"records", "train", "evaluate"}; !slices.Equal(got, want) {
		t.Fatalf("--from records --force ran %v, want %v", got, want)
	}
	opts.Selection.From = "nope"
	if _, err := Execute(ctx, fsys, p, cfg, opts); err == nil || !strings.Contains(err.Error(), `no stage "nope"`) {
		t.Fatalf("unknown --from: %v", err)
	}
}

func TestFailingStageKeepsPublishedOutputs(t *testing.T) {
	ctx := context.Background()
	work, counter := t.TempDir(), filepath.Join(t.TempDir(), "count")
	fsys, cfg := newFS(t), loadConfig(t)
	if _, err := Execute(ctx, fsys, testPipeline(t, counter, nil), cfg, testOptions(work)); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(work, "r1", "train", rundir.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	failing := testPipeline(t, counter, func(s *testStage) { s.fail = s.name == "train" })
	opts := testOptions(work)
	opts.Selection = Selection{Stages: []string{"train"}, Force: true}
	if _, err := Execute(ctx, fsys, failing, loadConfig(t, "train.lr=0.5"), opts); err == nil || !strings.Contains(err.Error(), "fails on purpose") {
		t.Fatalf("error = %v, want the stage's failure", err)
	}
	after, err := os.ReadFile(filepath.Join(work, "r1", "train", rundir.ManifestName))
	if err != nil || string(after) != string(before) {
		t.Fatalf("published train manifest changed after a failed run (err %v)", err)
	}
	if tmp, _ := os.ReadDir(filepath.Join(work, "r1", ".tmp")); len(tmp) != 0 {
		t.Errorf("failed stage left %d temporary folders", len(tmp))
	}
	publishedOK(t, fsys, filepath.Join(work, "r1"), []string{"dataset", "proposals", "records", "train", "evaluate"})
}

func TestConcurrentRunIsRefused(t *testing.T) {
	work := t.TempDir()
	lock, err := lockRunDir(filepath.Join(work, "r1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Execute(context.Background(), newFS(t), testPipeline(t, "", nil), loadConfig(t), testOptions(work))
	if err == nil || !strings.Contains(err.Error(), "in use by another pipeline run") || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("second run: %v, want a refusal naming the holder", err)
	}
	lock.unlock()
	if _, err := Execute(context.Background(), newFS(t), testPipeline(t, "", nil), loadConfig(t), testOptions(work)); err != nil {
		t.Fatalf("run after the lock was released: %v", err)
	}
}

// resumeStage fails on its first run after leaving a checkpoint in its work
// folder, and on the next run finds it.
type resumeStage struct{ testStage }

func (s resumeStage) Run(ctx context.Context, env *stages.Env) error {
	ckpt := filepath.Join(env.Work, "ckpt")
	if _, err := os.Stat(ckpt); err != nil {
		os.MkdirAll(env.Work, 0o755)
		os.WriteFile(ckpt, []byte("epoch 1"), 0o644)
		return errors.New("killed after epoch 1")
	}
	return os.WriteFile(filepath.Join(env.Out, "resumed"), nil, 0o644)
}

func TestWorkFolderSurvivesFailureUntilPublished(t *testing.T) {
	ctx := context.Background()
	work := t.TempDir()
	p, err := New("resume", "", testStage{name: "dataset", keys: []string{"dataset"}},
		resumeStage{testStage{name: "train", inputs: []string{"dataset"}, keys: []string{"train"}}})
	if err != nil {
		t.Fatal(err)
	}
	fsys, cfg := newFS(t), loadConfig(t)
	if _, err := Execute(ctx, fsys, p, cfg, testOptions(work)); err == nil {
		t.Fatal("first run should fail")
	}
	if _, err := Execute(ctx, fsys, p, cfg, testOptions(work)); err != nil {
		t.Fatalf("second run did not resume: %v", err)
	}
	if _, err := os.Stat(filepath.Join(work, "r1", "train", "resumed")); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(filepath.Join(work, "r1", ".work")); len(left) != 0 {
		t.Errorf("work folder not removed after publishing: %v", left)
	}
}

func TestBadStagesArgumentCreatesNoFolder(t *testing.T) {
	work := filepath.Join(t.TempDir(), "runs")
	opts := testOptions(work)
	opts.Selection.Stages = []string{"bogus"}
	_, err := Execute(context.Background(), newFS(t), testPipeline(t, "", nil), loadConfig(t), opts)
	if err == nil || !strings.Contains(err.Error(), `no stage "bogus"`) {
		t.Fatalf("error %v, want one naming the stage", err)
	}
	if _, err := os.Stat(work); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("work folder created before the argument error (stat: %v)", err)
	}
}
