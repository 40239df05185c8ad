package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/detflow/detflow/stages"
)

// beamStage runs a trivial Beam pipeline on the default (prism) runner.
type beamStage struct{}

func (beamStage) Name() string         { return "beam" }
func (beamStage) Version() int         { return 1 }
func (beamStage) Inputs() []string     { return nil }
func (beamStage) ConfigKeys() []string { return []string{"records"} }
func (beamStage) Run(ctx context.Context, env *stages.Env) error {
	p, s := beam.NewPipelineWithRoot()
	beam.Create(s, 1, 2, 3)
	return beamx.Run(ctx, p)
}

func TestBeamStageLeavesNoLoopbackFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p, err := New("beam_only", "", beamStage{})
	if err != nil {
		t.Fatal(err)
	}
	if n := countLoopback(t, tmp); n != 0 {
		t.Fatalf("%d placeholders before the stage", n)
	}
	if _, err := Execute(context.Background(), newFS(t), p, loadConfig(t), testOptions(t.TempDir())); err != nil {
		t.Fatal(err)
	}
	if n := countLoopback(t, tmp); n != 0 {
		t.Errorf("%d Beam loopback placeholders left in TMPDIR after the stage", n)
	}
	if os.Getenv("TMPDIR") != tmp {
		t.Errorf("TMPDIR = %q after the stage, want %q", os.Getenv("TMPDIR"), tmp)
	}
	deadline := time.Now().Add(5 * time.Second)
	for openLoopback() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the finalizer closes it
	}
	if n := openLoopback(); n > 0 {
		t.Errorf("%d descriptors still open on loopback placeholders", n)
	}
}

// countLoopback counts placeholders anywhere below dir.
func countLoopback(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), loopbackPrefix) {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// openLoopback counts this process's descriptors on placeholders (Linux).
func openLoopback() int {
	fds, _ := os.ReadDir("/proc/self/fd")
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.Contains(target, loopbackPrefix) {
			n++
		}
	}
	return n
}
