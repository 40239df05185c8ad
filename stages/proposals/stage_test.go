package proposals

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/storage"
)

// runDataset writes a small synthetic set with the dataset stage and
// returns its folder.
func runDataset(t testing.TB, fsys *storage.FS, root string, train, val int) string {
	t.Helper()
	cfg, err := configs.Load(configs.Default, []string{
		"dataset.synthetic.train=" + strconv.Itoa(train), "dataset.synthetic.val=" + strconv.Itoa(val)})
	if err != nil {
		t.Fatal(err)
	}
	out := storage.Join(root, "dataset")
	env := &stages.Env{FS: fsys, Config: cfg, Out: out, Log: quietLog()}
	if err := (dataset.Stage{}).Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	return out
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// proposalsEnv is the env the orchestrator would give the stage.
func proposalsEnv(t testing.TB, fsys *storage.FS, dsDir, out string, sets ...string) *stages.Env {
	t.Helper()
	cfg, err := configs.Load(configs.Default, sets)
	if err != nil {
		t.Fatal(err)
	}
	return &stages.Env{FS: fsys, Config: cfg, Run: "test", Out: out, Log: quietLog(),
		Inputs: map[string]string{"dataset": dsDir}}
}

func TestSelectiveSearchStageOnPrism(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	root := t.TempDir()
	dsDir := runDataset(t, fsys, root, 2, 3)
	out := filepath.Join(root, "proposals")
	env := proposalsEnv(t, fsys, dsDir, out, "proposals.top_k_test=50", "proposals.min_size=2")
	if err := (Stage{}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	for split, n := range map[string]int{"train": 2, "val": 3} {
		set, err := schemas.OpenProposals(ctx, fsys, filepath.Join(out, split))
		if err != nil {
			t.Fatal(err)
		}
		if set.Len() != n {
			t.Errorf("split %s: %d images with proposals, want %d", split, set.Len(), n)
		}
		for _, id := range set.ImageIDs() {
			row, ok, err := set.Get(ctx, id)
			if err != nil || !ok {
				t.Fatalf("get image %d: ok %v err %v", id, ok, err)
			}
			if row.Len() == 0 || (split == "val" && row.Len() > 50) {
				t.Errorf("split %s image %d: %d proposals, want 1..50 on val", split, id, row.Len())
			}
			for i := range row.Len() {
				b := row.Box(i)
				if b[0] < 0 || b[1] < 0 || b[2] > float32(row.Width) || b[3] > float32(row.Height) || b[2]-b[0] < 2 || b[3]-b[1] < 2 {
					t.Fatalf("image %d box %v: outside %dx%d or below min_size 2", id, b, row.Width, row.Height)
				}
				if i > 0 && row.Scores[i] > row.Scores[i-1] {
					t.Fatalf("image %d: scores not descending at %d", id, i)
				}
			}
		}
		set.Close()
	}
	metrics, err := schemas.Read[schemas.Metric](ctx, fsys, filepath.Join(out, MetricsName), schemas.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range metrics {
		if m.Stage != "proposals" || m.Run != "test" {
			t.Errorf("metric row %+v: want stage proposals, run test", m)
		}
		got[m.Dataset+"/"+m.Metric] = m.Value
	}
	for _, k := range []string{"val/AR@100", "val/AR@300", "val/AR@1000", "train/AR@1000", "val/images_per_s"} {
		v, ok := got[k]
		if !ok {
			t.Errorf("metric %s missing (have %v)", k, got)
			continue
		}
		if k != "val/images_per_s" && (v <= 0.1 || v > 1) {
			t.Errorf("%s = %v, want a recall in (0.1, 1]", k, v)
		}
	}
}

func TestStageRejectsBadConfig(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	tests := []struct {
		mutate func(*configs.Proposals)
		want   string
	}{
		{func(p *configs.Proposals) { p.Method = "rpn" }, `proposals.rpn.checkpoint is empty: proposals.method "rpn" needs an RPN checkpoint file`},
		{func(p *configs.Proposals) { p.Method = "magic" }, `proposals.method "magic"`},
		{func(p *configs.Proposals) { p.TopKTest = 0 }, "top_k_test 0"},
		{func(p *configs.Proposals) { p.MinSize = -1 }, "min_size -1"},
		{func(p *configs.Proposals) { p.SelectiveSearch.Mode = "slow" }, `proposals.selective_search: selective search: mode "slow"`},
	}
	dsDir := runDataset(t, fsys, t.TempDir(), 1, 1)
	for _, tt := range tests {
		env := proposalsEnv(t, fsys, dsDir, t.TempDir())
		tt.mutate(&env.Config.Proposals)
		err := (Stage{}).Run(ctx, env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want one containing %q", err, tt.want)
		}
	}
}

func TestFileMethodNeedsAFilePerSplit(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	dsDir := runDataset(t, fsys, t.TempDir(), 1, 1)
	env := proposalsEnv(t, fsys, dsDir, t.TempDir(), "proposals.method=file", "proposals.file.train=x.pkl", "proposals.file.val=y.pkl")
	env.Config.Proposals.File.Train = ""
	err := (Stage{}).Run(ctx, env)
	if err == nil || !strings.Contains(err.Error(), `proposals.file.train is empty: proposals.method "file" needs a proposals file for the train split`) {
		t.Errorf("error %v", err)
	}
}

// TestMain quiets prism's INFO logs (it logs through the default slog
// logger); warnings and errors still show.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}

func TestCheckTotal(t *testing.T) {
	sum := addResults(partResult{Parts: 1, Images: 64, Boxes: 100}, partResult{Parts: 1, Images: 3, Boxes: 7})
	if sum != (partResult{Parts: 2, Images: 67, Boxes: 107}) {
		t.Errorf("sum = %+v", sum)
	}
	if err := (&checkTotalFn{Images: 67}).ProcessElement(sum); err != nil {
		t.Errorf("complete parts rejected: %v", err)
	}
	err := (&checkTotalFn{Images: 68}).ProcessElement(sum)
	if err == nil || !strings.Contains(err.Error(), "wrote 2 parts with 67 images, want 68") {
		t.Errorf("error %v", err)
	}
}
