package proposals

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// nonFiniteJSON gives images 1 and 9 scores that overflow float32 to +Inf
// (as a NaN in a pickle would be), and image 5 one finite proposal.
const nonFiniteJSON = `[
 {"image_id": 5, "boxes": [[1, 2, 30, 20]], "scores": [0.9]},
 {"image_id": 1, "boxes": [[1, 2, 30, 20], [2, 3, 10, 10]], "scores": [1e300, 1e300]},
 {"image_id": 9, "boxes": [[1, 2, 30, 20], [2, 3, 10, 10]], "scores": [0.5, 1e300]}
]`

func TestImportNonFiniteProposalsFailsNamingFileAndImages(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	sp := fixtureSplit(t, fsys)
	p := filepath.Join(t.TempDir(), "props.json")
	if err := os.WriteFile(p, []byte(nonFiniteJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	err := importSplit(ctx, fsys, sp, p, FormatAuto, 0, 1000, t.TempDir(), importOptions{})
	if err == nil {
		t.Fatal("imported NaN/inf proposals without an error")
	}
	for _, want := range []string{p, "3 proposals with NaN or infinite values in 2 images", `id 1 (a.jpg): 2`, `id 9 (c.jpg): 1`, "proposals.file.non_finite=drop"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\n lacks %q", err, want)
		}
	}

	var logs bytes.Buffer
	out := t.TempDir()
	opt := importOptions{NonFinite: NonFiniteDrop, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := importSplit(ctx, fsys, sp, p, FormatAuto, 0, 1000, out, opt); err != nil {
		t.Fatalf("drop mode: %v", err)
	}
	if !strings.Contains(logs.String(), "dropping non-finite proposals") || !strings.Contains(logs.String(), "3 proposals") {
		t.Errorf("drop mode logged %q, want a warning with the count", logs.String())
	}
	kept := map[int64]int{}
	if err := schemas.ForEachProposal(ctx, fsys, out, func(r schemas.ImageProposals) error { kept[r.ImageID] = r.Len(); return nil }); err != nil {
		t.Fatal(err)
	}
	if kept[5] != 1 || kept[1] != 0 || kept[9] != 1 {
		t.Errorf("kept per image %v, want 5:1 1:0 9:1", kept)
	}
}

func TestListFileInWrongOrderWarns(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	sp := fixtureSplit(t, fsys)
	// Each image's proposals are its own ground-truth boxes.
	right := make([][]float32, len(sp.GT.Images))
	for i, im := range sp.GT.Images {
		for _, a := range sp.GT.ImageAnnotations(im.ID) {
			b := a.BBox
			right[i] = append(right[i], float32(b[0]), float32(b[1]), float32(b[0]+b[2]), float32(b[1]+b[3]))
		}
	}
	wrong := append(append([][]float32{}, right[1:]...), right[0])
	for _, tt := range []struct {
		name  string
		boxes [][]float32
		warn  bool
	}{{"annotation order", right, false}, {"shifted order", wrong, true}} {
		var logs bytes.Buffer
		opt := importOptions{Log: slog.New(slog.NewTextHandler(&logs, nil))}
		checkOrder("props.pkl", FormatMMDet, sp, tt.boxes, opt)
		if got := strings.Contains(logs.String(), "image order likely differs"); got != tt.warn {
			t.Errorf("%s: warned %v, want %v: %q", tt.name, got, tt.warn, logs.String())
		}
	}
}
