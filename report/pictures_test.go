package report_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/pictures/picturestest"
	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/report/reporttest"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// evaluated writes the evaluated fixture run and returns it.
func evaluated(t *testing.T) (*storage.FS, *report.Catalog, *report.Run) {
	t.Helper()
	fsys, c := fixtureWith(t, reporttest.WriteEvaluated)
	r, err := c.Run(reporttest.EvaluatedRun)
	if err != nil {
		t.Fatal(err)
	}
	return fsys, c, r
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestShowMatchesGolden(t *testing.T) {
	ctx := context.Background()
	fsys, _, r := evaluated(t)
	d, err := report.LoadEvalData(ctx, fsys, r, "val", true)
	if err != nil {
		t.Fatal(err)
	}
	pics, err := report.Show(ctx, fsys, d, report.ShowOptions{IDs: []int64{1, 3}, Score: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if len(pics) != 2 || pics[0].Name != "image_1.png" || pics[1].Name != "image_3.png" {
		t.Fatalf("pictures %+v, want image_1.png and image_3.png", pics)
	}
	for _, p := range pics {
		picturestest.CheckGolden(t, filepath.Join("testdata", "show_"+p.Name), decode(t, p.PNG), *update)
	}
	gt, err := report.Show(ctx, fsys, d, report.ShowOptions{IDs: []int64{3}, GroundTruthOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	picturestest.CheckGolden(t, filepath.Join("testdata", "show_data_image_3.png"), decode(t, gt[0].PNG), *update)
}

func TestShowPicksWorstAndBestByImageAP(t *testing.T) {
	ctx := context.Background()
	fsys, _, r := evaluated(t)
	d, err := report.LoadEvalData(ctx, fsys, r, "val", true)
	if err != nil {
		t.Fatal(err)
	}
	var progress []int
	pics, err := report.Show(ctx, fsys, d, report.ShowOptions{Worst: 2, Best: 1, Score: 0.3,
		Progress: func(done, total int) { progress = append(progress, done*10+total) }})
	if err != nil {
		t.Fatal(err)
	}
	// Image 1 finds both objects; 2 names its circle a square and 3 misses
	// its square: both AP 0, ties in id order.
	var names []string
	for _, p := range pics {
		names = append(names, p.Name)
	}
	want := "worst_01_image_2.png worst_02_image_3.png best_01_image_1.png"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("picked %s, want %s", got, want)
	}
	if len(progress) != 3 || progress[2] != 33 {
		t.Errorf("progress calls %v, want 1/3, 2/3, 3/3", progress)
	}
}

func TestShowNamesWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	fsys, c, r := evaluated(t)
	d, err := report.LoadEvalData(ctx, fsys, r, "val", true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = report.Show(ctx, fsys, d, report.ShowOptions{IDs: []int64{99}})
	if err == nil || !strings.Contains(err.Error(), "image id 99 is not in split \"val\"") {
		t.Errorf("unknown image: err = %v", err)
	}
	if _, err := report.LoadEvalData(ctx, fsys, r, "test", false); err == nil || !strings.Contains(err.Error(), `no "test" split`) || !strings.Contains(err.Error(), "splits: val") {
		t.Errorf("unknown split: err = %v", err)
	}
	if err := d.LoadProposals(ctx, fsys, c); err == nil || !strings.Contains(err.Error(), "no proposals") {
		t.Errorf("no proposals: err = %v", err)
	}
	noEval, err := c.Run(reporttest.EvaluatedRun)
	if err != nil {
		t.Fatal(err)
	}
	noEval.Stages = noEval.Stages[:1] // the dataset stage alone
	if _, err := report.LoadEvalData(ctx, fsys, noEval, "val", true); err == nil || !strings.Contains(err.Error(), "no published evaluate stage") {
		t.Errorf("no evaluate stage: err = %v", err)
	}
	if _, err := report.LoadEvalData(ctx, fsys, noEval, "val", false); err != nil {
		t.Errorf("ground truth alone: %v", err)
	}
}

func TestWriteAnalysisWritesCurvesAndConfusionMatrix(t *testing.T) {
	ctx := context.Background()
	fsys, _, r := evaluated(t)
	d, err := report.LoadEvalData(ctx, fsys, r, "val", true)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := report.WriteAnalysis(ctx, fsys, d, dir, report.AnalysisOptions{Score: 0.3, IoU: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := "error_analysis_all.png error_analysis_circle.png error_analysis_square.png confusion_matrix.png confusion_matrix.parquet"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("wrote %s, want %s", got, want)
	}
	for _, f := range files[:4] {
		b, err := fsys.ReadFile(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if img := decode(t, b); img.Bounds().Dx() < 150 {
			t.Errorf("%s: %v is too small to read", f, img.Bounds())
		}
	}
	rows, err := schemas.Read[schemas.ConfusionCell](ctx, fsys, files[4], schemas.ConfusionMatrix)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, c := range rows {
		counts[c.GroundTruth+">"+c.Predicted] = c.Count
	}
	// Above score .3: image 1's two hits, image 2's circle called a
	// square (so also missed), image 3's square missed and its circle
	// detection inside the crowd region left out.
	want2 := map[string]int64{"circle>circle": 1, "square>square": 1, "circle>square": 1, "circle>background": 1, "square>background": 1}
	if len(rows) != 9 {
		t.Errorf("%d rows, want 9 (3x3 with background)", len(rows))
	}
	for k, n := range counts {
		if n != want2[k] {
			t.Errorf("cell %s = %d, want %d", k, n, want2[k])
		}
	}
}

func TestMasksOfSegmResultsAreDrawnAndAnalysed(t *testing.T) {
	ctx := context.Background()
	fsys, c := fixtureWith(t, reporttest.WriteEvaluatedMasks)
	r, err := c.Run(reporttest.EvaluatedMasksRun)
	if err != nil {
		t.Fatal(err)
	}
	d, err := report.LoadEvalData(ctx, fsys, r, "val", true)
	if err != nil {
		t.Fatal(err)
	}
	if d.GT.Annotations[0].Segmentation == nil {
		t.Fatal("ground-truth masks not loaded for a run with segm results")
	}
	gtOnly, err := report.LoadEvalData(ctx, fsys, r, "val", false)
	if err != nil {
		t.Fatal(err)
	}
	if gtOnly.GT.Annotations[0].Segmentation == nil {
		t.Error("ground-truth masks not loaded for `show --data`")
	}
	pics, err := report.Show(ctx, fsys, d, report.ShowOptions{IDs: []int64{1}, Score: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	picturestest.CheckGolden(t, filepath.Join("testdata", "show_masks_image_1.png"), decode(t, pics[0].PNG), *update)
	files, err := report.WriteAnalysis(ctx, fsys, d, t.TempDir(), report.AnalysisOptions{Score: 0.3, IoU: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "error_analysis_all.png") || !strings.Contains(got, "segm_error_analysis_all.png") {
		t.Errorf("wrote %s: want bbox and segm error analyses", got)
	}
}
