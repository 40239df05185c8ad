package pipelines

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const helperEnv = "DETFLOW_TEST_KILL_WORKDIR"

// slowStages widens the windows in which a kill lands mid-write.
func slowStages(s *testStage) { s.files, s.size, s.pause = 12, 4096, 2*time.Millisecond }

// TestHelperKillableRun is the child process of TestKilledRunNeverLeaves...;
// run directly it does nothing.
func TestHelperKillableRun(t *testing.T) {
	work := os.Getenv(helperEnv)
	if work == "" {
		t.Skip("child process of TestKilledRunNeverLeavesManifestOverPartialOutputs; runs only when started by it")
	}
	p := testPipeline(t, "", slowStages)
	cfg := loadConfig(t, "train.lr="+os.Getenv(helperEnv+"_LR"))
	opts := testOptions(work)
	opts.Selection.Force = os.Getenv(helperEnv+"_FORCE") == "1"
	if _, err := Execute(context.Background(), newFS(t), p, cfg, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

func startChild(t *testing.T, work, lr string, force bool) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKillableRun$")
	f := "0"
	if force {
		f = "1"
	}
	cmd.Env = append(os.Environ(), helperEnv+"="+work, helperEnv+"_LR="+lr, helperEnv+"_FORCE="+f)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestKilledRunNeverLeavesManifestOverPartialOutputs SIGKILLs runs at random
// instants, alternating configs so kills also land while replacing published
// outputs, and checks after each kill that every manifest present lists
// complete outputs. A final run completes and matches a clean run exactly.
func TestKilledRunNeverLeavesManifestOverPartialOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns many processes")
	}
	work := t.TempDir()
	runDir := filepath.Join(work, "r1")
	fsys := newFS(t)
	rng := rand.New(rand.NewPCG(7, 11))
	names := testPipeline(t, "", nil).StageNames()
	lrs := []string{"0.01", "0.02", "0.03"}
	midStage := 0 // kills that left a stage's unpublished outputs behind
	for i := 0; i < 30; i++ {
		cmd := startChild(t, work, lrs[i%len(lrs)], i%4 == 3)
		time.Sleep(time.Duration(rng.IntN(450)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL: no cleanup runs
		cmd.Wait()
		publishedOK(t, fsys, runDir, names)
		if tmp, _ := os.ReadDir(filepath.Join(runDir, ".tmp")); len(tmp) > 0 {
			midStage++
		}
	}
	if midStage < 3 {
		t.Fatalf("only %d of 30 kills landed while a stage was writing; the test is not exercising crashes", midStage)
	}
	cmd := startChild(t, work, "0.02", false)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run after kills: %v: %s", err, cmd.Stderr)
	}
	publishedOK(t, fsys, runDir, names)

	clean := t.TempDir()
	if _, err := Execute(context.Background(), fsys, testPipeline(t, "", slowStages), loadConfig(t, "train.lr=0.02"), testOptions(clean)); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		for j := 0; j < 12; j++ {
			rel := filepath.Join(n, "part", fmt.Sprintf("%03d.bin", j))
			a, errA := os.ReadFile(filepath.Join(runDir, rel))
			b, errB := os.ReadFile(filepath.Join(clean, "r1", rel))
			if errA != nil || errB != nil || !bytes.Equal(a, b) {
				t.Fatalf("%s differs from a clean run (%v, %v)", rel, errA, errB)
			}
		}
	}
	if tmp, _ := os.ReadDir(filepath.Join(runDir, ".tmp")); len(tmp) != 0 {
		t.Errorf("completed run left %d temporary folders", len(tmp))
	}
}
