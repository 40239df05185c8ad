package proposals

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// fixtureSplit is the split of testdata/gt.json, with images under a folder
// named val2017 (the MMDetection 3.x keys' folder).
func fixtureSplit(t *testing.T, fsys *storage.FS) split {
	t.Helper()
	ann := filepath.Join("testdata", "gt.json")
	gt, err := loadGT(context.Background(), fsys, ann)
	if err != nil {
		t.Fatal(err)
	}
	return split{Name: "val", Annotations: ann, ImageRoot: "/data/coco/val2017", GT: gt}
}

// wantFixture is what every good fixture imports to with min_size 1: the
// boxes of gen_proposal_fixtures.py's boxes_for, box 2 clipped, box 3
// dropped, sorted by score.
func wantFixture(w, h float32) ([]float32, []float32) {
	return []float32{0, 0, w, h, 1, 2, w / 2, h / 2, w / 4, h / 4, w - 1, h - 1}, []float32{0.95, 0.9, 0.8}
}

func TestImportLayouts(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	sp := fixtureSplit(t, fsys)
	tests := []struct {
		file, format, layout string
		rankScores           bool // the file has no scores
	}{
		{"mmdet_v2.pkl", FormatAuto, FormatMMDet, false},
		{"mmdet_v2.pkl", FormatMMDet, FormatMMDet, false},
		{"mmdet_v1_xyxy.pkl", FormatAuto, FormatMMDet, true},
		{"mmdet3.pkl", FormatAuto, FormatMMDet3, false},
		{"mmdet3_instancedata.pkl", FormatMMDet3, FormatMMDet3, false},
		{"detectron.pkl", FormatAuto, FormatDetectron, false},
		{"detectron_indexes.pkl", FormatDetectron, FormatDetectron, false},
		{"detectron2.pkl", FormatAuto, FormatDetectron2, false},
		{"detectron2_xywh.pkl", FormatDetectron2, FormatDetectron2, false},
		{"proposals.json", FormatAuto, FormatJSON, false},
		{"results.json", FormatJSON, FormatJSON, false},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.format, func(t *testing.T) {
			out := t.TempDir()
			fp, err := importFile(ctx, fsys, filepath.Join("testdata", tt.file), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if fp.layout != tt.layout {
				t.Errorf("layout %q, want %q", fp.layout, tt.layout)
			}
			if err := importSplit(ctx, fsys, sp, filepath.Join("testdata", tt.file), tt.format, 1, 1000, out, importOptions{}); err != nil {
				t.Fatal(err)
			}
			checkFixtureParts(t, fsys, sp, out, tt.rankScores)
		})
	}
}

// checkFixtureParts checks the imported rows of every fixture image.
func checkFixtureParts(t *testing.T, fsys *storage.FS, sp split, out string, rankScores bool) {
	t.Helper()
	ctx := context.Background()
	set, err := schemas.OpenProposals(ctx, fsys, out)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if got := set.ImageIDs(); len(got) != 3 || got[0] != 1 || got[1] != 5 || got[2] != 9 {
		t.Fatalf("image ids %v, want [1 5 9]", got)
	}
	for _, im := range sp.GT.Images {
		row, _, err := set.Get(ctx, im.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantBoxes, wantScores := wantFixture(float32(im.Width), float32(im.Height))
		if rankScores {
			// Without scores the file order is kept: boxes 0, 1, 2.
			wantBoxes = []float32{1, 2, float32(im.Width) / 2, float32(im.Height) / 2,
				float32(im.Width) / 4, float32(im.Height) / 4, float32(im.Width) - 1, float32(im.Height) - 1,
				0, 0, float32(im.Width), float32(im.Height)}
			wantScores = []float32{1, 0.75, 0.5}
		}
		if !near(row.Boxes, wantBoxes, 1e-4) || !near(row.Scores, wantScores, 1e-5) {
			t.Errorf("image %d: boxes %v scores %v, want %v %v", im.ID, row.Boxes, row.Scores, wantBoxes, wantScores)
		}
		if row.FileName != im.FileName || row.Split != "val" || int(row.Width) != im.Width {
			t.Errorf("image %d: row %q %q %dx%d, want %q val %dx%d", im.ID, row.FileName, row.Split, row.Width, row.Height, im.FileName, im.Width, im.Height)
		}
	}
}

func near(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

func TestImportMismatchesFail(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	sp := fixtureSplit(t, fsys)
	tests := []struct {
		file            string
		expected, found int
		first           string
	}{
		{"mmdet_missing.pkl", 3, 2, `image at position 2 (id 9, "c.jpg") has no entry (the file ends after 2)`},
		{"mmdet_wrong_order.pkl", 3, 3, `image at position 0 (id 5, "b.jpg"): 2 of 4 boxes extend beyond its 64x48 pixels, so the entries are not in the annotation file's image order`},
		{"mmdet3_unknown.pkl", 3, 3, `image at position 2 (id 9, "c.jpg") has no entry under key "val2017/c.jpg" (unmatched keys in the file, first: "val2017/zzz.jpg")`},
		{"detectron_missing.pkl", 3, 2, `image at position 2 (id 9, "c.jpg") has no entry`},
		{"detectron_unknown.pkl", 3, 3, `image at position 2 (id 9, "c.jpg") has no entry`},
		{"detectron2_missing.pkl", 3, 2, `image at position 2 (id 9, "c.jpg") has no entry`},
		{"json_unknown.json", 3, 3, `image at position 1 (id 1, "a.jpg") has no entry`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := filepath.Join("testdata", tt.file)
			err := importSplit(ctx, fsys, sp, p, FormatAuto, 0, 1000, t.TempDir(), importOptions{})
			var me *MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("error %v, want a *MismatchError", err)
			}
			if me.File != p || me.Expected != tt.expected || me.Found != tt.found || me.First != tt.first {
				t.Errorf("got  file %s expected %d found %d first %q\nwant file %s expected %d found %d first %q",
					me.File, me.Expected, me.Found, me.First, p, tt.expected, tt.found, tt.first)
			}
			for _, s := range []string{p, "testdata/gt.json", "expected 3 images"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not name %q", err, s)
				}
			}
		})
	}
}

func TestImportUnknownEntryFails(t *testing.T) {
	// Every image present plus one the annotation file lacks.
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	sp := fixtureSplit(t, fsys)
	fp := &fileProposals{path: "x.json", layout: FormatJSON, ids: []int64{1, 5, 9, 12}, entries: make([]entry, 4)}
	_, err := fp.match(sp)
	var me *MismatchError
	if !errors.As(err, &me) || me.First != "entry 3 names image id 12, which the annotation file does not list" || me.Found != 4 {
		t.Errorf("error %v, want a mismatch naming entry 3 and id 12", err)
	}
}

func TestImportFormatErrors(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	tests := []struct {
		file, format, want string
	}{
		{"proposals.json", FormatMMDet, `"mmdet", a pickle layout, but the file looks like json`},
		{"mmdet_v2.pkl", FormatJSON, `"json" but the file looks like pickle`},
		{"mmdet_v2.pkl", FormatDetectron, "detectron layout: want a dict"},
		{"mmdet_v2.pkl", "csv", `proposals.file.format "csv"`},
		{"nonexistent.pkl", FormatAuto, "nonexistent.pkl"},
	}
	for _, tt := range tests {
		_, err := importFile(ctx, fsys, filepath.Join("testdata", tt.file), tt.format)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s as %s: error %v, want one containing %q", tt.file, tt.format, err, tt.want)
		}
	}
}

func TestImportParquetRoundTrip(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	sp := fixtureSplit(t, fsys)
	first := t.TempDir()
	if err := importSplit(ctx, fsys, sp, filepath.Join("testdata", "mmdet_v2.pkl"), FormatAuto, 1, 1000, first, importOptions{}); err != nil {
		t.Fatal(err)
	}
	// A folder of parts (another run's proposals/<split>) and one part file.
	for _, p := range []string{first, filepath.Join(first, schemas.ProposalPartName(0))} {
		out := t.TempDir()
		if err := importSplit(ctx, fsys, sp, p, FormatAuto, 1, 1000, out, importOptions{}); err != nil {
			t.Fatal(err)
		}
		checkFixtureParts(t, fsys, sp, out, false)
	}
}

func TestImportTopKAndMinSize(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	sp := fixtureSplit(t, fsys)
	out := t.TempDir()
	if err := importSplit(ctx, fsys, sp, filepath.Join("testdata", "mmdet_v2.pkl"), FormatAuto, 0, 2, out, importOptions{}); err != nil {
		t.Fatal(err)
	}
	set, err := schemas.OpenProposals(ctx, fsys, out)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	row, _, _ := set.Get(ctx, 5)
	if !near(row.Scores, []float32{0.95, 0.9}, 1e-6) {
		t.Errorf("top 2 scores %v, want [0.95 0.9]", row.Scores)
	}
}
