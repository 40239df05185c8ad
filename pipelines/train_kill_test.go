package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/stages/train"
	"github.com/detflow/detflow/stages/train/traintest"
	"github.com/detflow/detflow/tensor"
)

const trainKillEnv = "DETFLOW_TEST_TRAIN_KILL_WORKDIR"

// toyTrainPipeline is dataset -> records -> train with the toy model, slowed
// so that an epoch takes long enough to be killed in.
func toyTrainPipeline(t testing.TB, delay time.Duration) *Pipeline {
	models := func(*configs.Config) (train.Builder, error) {
		return func(e *tensor.Engine, rng *rand.Rand) (train.Model, error) {
			m := traintest.NewToy(e, rng, 9)
			m.Delay = delay
			return m, nil
		}, nil
	}
	p, err := New("toy_train", "", dataset.Stage{}, records.Stage{}, train.Stage{Models: models})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var toyTrainSets = []string{"dataset.synthetic.train=8", "dataset.synthetic.val=2", "data.imgs_per_gpu=2",
	"train.epochs=3", "train.lr_steps=[2]", "train.log_interval=1", "train.warmup_iters=2"}

// TestHelperTrainRun is the child process of TestKilledTrainingResumes.
func TestHelperTrainRun(t *testing.T) {
	work := os.Getenv(trainKillEnv)
	if work == "" {
		t.Skip("child process of TestKilledTrainingResumes; runs only when started by it")
	}
	opts := testOptions(work)
	opts.Stderr = os.Stderr
	if _, err := Execute(context.Background(), newFS(t), toyTrainPipeline(t, 60*time.Millisecond), loadConfig(t, toyTrainSets...), opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

// TestKilledTrainingResumes SIGKILLs a run during training's second epoch;
// the rerun resumes from the epoch-1 checkpoint, says so in the stage log,
// and ends with the same weights as an uninterrupted run.
func TestKilledTrainingResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	work := t.TempDir()
	runDir := filepath.Join(work, "r1")
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTrainRun$")
		cmd.Env = append(os.Environ(), trainKillEnv+"="+work)
		cmd.Stderr = &bytes.Buffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cmd := start()
	ckpt := waitForFile(t, filepath.Join(runDir, ".work", "train-*", "epoch_1.safetensors"), 60*time.Second)
	time.Sleep(150 * time.Millisecond) // into epoch 2 (4 iterations of 60 ms)
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(filepath.Dir(ckpt), "epoch_2.safetensors")); err == nil {
		t.Fatal("epoch 2 finished before the kill; the test did not kill during epoch 2")
	}
	if _, err := os.Stat(filepath.Join(runDir, "train", rundir.ManifestName)); err == nil {
		t.Fatal("train was published by a killed run")
	}
	cmd = start()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, cmd.Stderr)
	}
	log, _ := os.ReadFile(filepath.Join(runDir, "logs", "train.log"))
	if !strings.Contains(string(log), `"msg":"resumed"`) || !strings.Contains(string(log), `"epoch":1`) {
		t.Fatalf("train log shows no resume from epoch 1:\n%s", log)
	}
	clean := t.TempDir()
	if _, err := Execute(context.Background(), newFS(t), toyTrainPipeline(t, 0), loadConfig(t, toyTrainSets...), testOptions(clean)); err != nil {
		t.Fatal(err)
	}
	a, errA := os.ReadFile(filepath.Join(runDir, "train", "epoch_3.safetensors"))
	b, errB := os.ReadFile(filepath.Join(clean, "r1", "train", "epoch_3.safetensors"))
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("resumed run's final checkpoint differs from an uninterrupted run's (%v, %v)", errA, errB)
	}
}

// waitForFile polls for a file matching pattern and returns its path.
func waitForFile(t *testing.T, pattern string, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s after %s", pattern, limit)
	return ""
}

// TestTrainingKilledBeforeFirstCheckpointLogsEachStepOnce SIGKILLs two
// attempts after they logged steps but before epoch 1's checkpoint; the
// published train log, JSON lines and Parquet, holds each step once.
func TestTrainingKilledBeforeFirstCheckpointLogsEachStepOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	work := t.TempDir()
	runDir := filepath.Join(work, "r1")
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTrainRun$")
		cmd.Env = append(os.Environ(), trainKillEnv+"="+work)
		cmd.Stderr = &bytes.Buffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	for range 2 {
		cmd := start()
		logPath := waitForFile(t, filepath.Join(runDir, ".work", "train-*", "train_log.jsonl"), 60*time.Second)
		waitForLines(t, logPath, 2, 60*time.Second)
		cmd.Process.Kill()
		cmd.Wait()
		if m, _ := filepath.Glob(filepath.Join(runDir, ".work", "train-*", "epoch_*.safetensors")); len(m) > 0 {
			t.Fatalf("a checkpoint exists (%s): the test did not kill before the first one", m[0])
		}
	}
	cmd := start()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, cmd.Stderr)
	}
	b, err := os.ReadFile(filepath.Join(runDir, "train", "train_log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var steps []int64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct{ Step int64 }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		steps = append(steps, r.Step)
	}
	rows, err := schemas.Read[schemas.TrainLogRow](context.Background(), newFS(t), filepath.Join(runDir, "train", "train_log.parquet"), schemas.TrainLog)
	if err != nil {
		t.Fatal(err)
	}
	var tableSteps []int64
	for _, r := range rows {
		tableSteps = append(tableSteps, r.Step)
	}
	for name, s := range map[string][]int64{"train_log.jsonl": steps, "train_log.parquet": tableSteps} {
		seen := map[int64]bool{}
		for _, st := range s {
			if seen[st] {
				t.Errorf("%s logs step %d twice: %v", name, st, s)
			}
			seen[st] = true
		}
	}
}

// waitForLines polls until the file at p has at least n lines.
func waitForLines(t *testing.T, p string, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(p); err == nil && bytes.Count(b, []byte("\n")) >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s has fewer than %d lines after %s", p, n, limit)
}
