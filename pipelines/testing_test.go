package pipelines

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// testStage writes files whose content depends only on the config keys it
// reads and its inputs' files, so reruns are reproducible and staleness is
// observable. It counts its runs in a file outside the run directory.
type testStage struct {
	name    string
	inputs  []string
	keys    []string
	files   int           // output files to write
	size    int           // bytes per file
	pause   time.Duration // sleep between files, to widen kill windows
	fail    bool
	counter string // file counting runs, one line per run
	// optional are inputs the stage can do without (stages.OptionalInputs).
	optional []string
	// external, when set, declares the stage's external inputs (often a
	// real stage's External).
	external func(ctx context.Context, fsys *storage.FS, cfg *configs.Config) (map[string]string, error)
}

func (s testStage) External(ctx context.Context, fsys *storage.FS, cfg *configs.Config) (map[string]string, error) {
	if s.external == nil {
		return nil, nil
	}
	return s.external(ctx, fsys, cfg)
}

func (s testStage) OptionalInputs(*configs.Config) []string { return s.optional }

func (s testStage) Name() string         { return s.name }
func (s testStage) Version() int         { return 1 }
func (s testStage) Inputs() []string     { return s.inputs }
func (s testStage) ConfigKeys() []string { return s.keys }

func (s testStage) Run(ctx context.Context, env *stages.Env) error {
	if s.counter != "" {
		f, err := os.OpenFile(s.counter, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		fmt.Fprintln(f, s.name)
		f.Close()
	}
	seed, err := s.seed(ctx, env)
	if err != nil {
		return err
	}
	if s.fail {
		return fmt.Errorf("test stage %s fails on purpose", s.name)
	}
	for i := 0; i < max(s.files, 1); i++ {
		data := content(seed, i, max(s.size, 16))
		if _, err := env.FS.WriteFile(ctx, storage.Join(env.Out, "part", fmt.Sprintf("%03d.bin", i)), data); err != nil {
			return err
		}
		if s.pause > 0 {
			time.Sleep(s.pause)
		}
	}
	return nil
}

// seed hashes the stage's config values and every input file.
func (s testStage) seed(ctx context.Context, env *stages.Env) (string, error) {
	h := sha256.New()
	vals, err := env.Config.Values(s.keys...)
	if err != nil {
		return "", err
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, vals[k])
	}
	for _, in := range s.inputs {
		if _, ok := env.Inputs[in]; !ok && slices.Contains(s.optional, in) {
			continue
		}
		dir, err := env.Input(in)
		if err != nil {
			return "", err
		}
		files, err := env.FS.ListRecursive(ctx, dir)
		if err != nil {
			return "", err
		}
		for _, f := range files {
			if strings.HasSuffix(f.Path, rundir.ManifestName) {
				continue
			}
			b, err := env.FS.ReadFile(ctx, f.Path)
			if err != nil {
				return "", err
			}
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func content(seed string, i, n int) []byte {
	b := make([]byte, 0, n)
	for len(b) < n {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%d", seed, i, len(b))))
		b = append(b, sum[:]...)
	}
	return b[:n]
}

// testPipeline mirrors fast_rcnn_with_proposals with test stages.
func testPipeline(t testing.TB, counter string, tweak func(*testStage)) *Pipeline {
	t.Helper()
	ss := []testStage{
		{name: "dataset", keys: []string{"dataset"}},
		{name: "proposals", inputs: []string{"dataset"}, keys: []string{"proposals"}},
		{name: "records", inputs: []string{"dataset", "proposals"}, keys: []string{"records"}},
		{name: "train", inputs: []string{"records"}, keys: []string{"train", "model"}},
		{name: "evaluate", inputs: []string{"records", "train"}, keys: []string{"evaluate"}},
	}
	var list []stages.Stage
	for _, s := range ss {
		s.counter = counter
		s.files = 3
		s.size = 100
		if tweak != nil {
			tweak(&s)
		}
		list = append(list, s)
	}
	p, err := New("test", "test pipeline", list...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadConfig(t testing.TB, sets ...string) *configs.Config {
	t.Helper()
	cfg, err := configs.Load(configs.Default, sets)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newFS(t testing.TB) *storage.FS {
	t.Helper()
	fsys, err := storage.New(context.Background(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func testOptions(workdir string) Options {
	return Options{Workdir: workdir, Run: "r1", Stdout: io.Discard, Stderr: io.Discard, Version: "test"}
}

// runsOf reads and resets the run counter: which stages ran, in order.
func runsOf(t testing.TB, counter string) []string {
	t.Helper()
	b, err := os.ReadFile(counter)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(counter)
	return strings.Fields(string(b))
}

// publishedOK checks that every manifest in runDir lists outputs that are
// all present with their recorded sizes and hashes.
func publishedOK(t testing.TB, fsys *storage.FS, runDir string, names []string) {
	t.Helper()
	ctx := context.Background()
	for _, n := range names {
		dir := filepath.Join(runDir, n)
		m, err := rundir.ReadManifest(ctx, fsys, dir)
		if err != nil {
			t.Fatalf("stage %s: %v", n, err)
		}
		if m == nil {
			continue
		}
		why, err := checkOutputs(ctx, fsys, dir, m, true)
		if err != nil || why != "" {
			t.Fatalf("stage %s: manifest over bad outputs: %v %s", n, err, why)
		}
		outs, err := hashOutputs(ctx, fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		if publishedDigest(outs, externalDigests(m.External)) != m.Digest {
			t.Fatalf("stage %s: folder holds files the manifest does not list", n)
		}
	}
}
