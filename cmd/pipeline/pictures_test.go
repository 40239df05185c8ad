package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/report/reporttest"
)

// evaluatedWorkdir is a work directory holding the report fixtures' run
// with a data set, a train log and bbox results.
func evaluatedWorkdir(t *testing.T) string { return workdirWith(t, reporttest.WriteEvaluated) }

func TestShowDrawsDataSetAndProposalsOfRealRun(t *testing.T) {
	work := realRun(t)
	out := t.TempDir()
	code, stdout, errOut := pipeline(t, "show", "r", "--data", "--proposals=20", "--workdir", work, "--out", out)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	files := strings.Fields(stdout)
	if len(files) != 2 { // the val split's two images
		t.Fatalf("wrote %q, want two pictures", stdout)
	}
	for _, f := range files {
		checkPNG(t, f, 2*320) // ground truth and proposals side by side
	}
}

func TestShowAnalyzeAndReportCommands(t *testing.T) {
	work := evaluatedWorkdir(t)
	run := filepath.Join(work, reporttest.EvaluatedRun)
	code, stdout, errOut := pipeline(t, "show", reporttest.EvaluatedRun, "--worst", "1", "--best", "1", "--workdir", work, "--progress", "always")
	if code != 0 {
		t.Fatalf("show: code %d: %s", code, errOut)
	}
	for _, step := range []string{"rank images by AP", "draw images"} {
		if !strings.Contains(errOut, step) {
			t.Errorf("show --progress always: no %q bar in\n%s", step, errOut)
		}
	}
	want := filepath.Join(run, "pictures", "worst_01_image_2.png") + "\n" + filepath.Join(run, "pictures", "best_01_image_1.png") + "\n"
	if stdout != want {
		t.Errorf("show wrote\n%s\nwant\n%s", stdout, want)
	}
	checkPNG(t, filepath.Join(run, "pictures", "best_01_image_1.png"), 2*320)
	code, stdout, errOut = pipeline(t, "analyze", reporttest.EvaluatedRun, "--workdir", work)
	if code != 0 || !strings.Contains(stdout, filepath.Join(run, "analysis", "error_analysis_all.png")) ||
		!strings.Contains(stdout, "confusion_matrix.parquet") {
		t.Errorf("analyze: code %d, stdout %q, stderr %s", code, stdout, errOut)
	}
	page := filepath.Join(t.TempDir(), "page.html")
	code, stdout, errOut = pipeline(t, "report", reporttest.EvaluatedRun, "--workdir", work, "--out", page, "--samples", "1")
	if code != 0 || stdout != page+"\n" {
		t.Fatalf("report: code %d, stdout %q, stderr %s", code, stdout, errOut)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `src="data:image/png;base64,`); n != 1+3+1+1 {
		t.Errorf("report has %d inline images, want 6 (loss, 3 error analyses, confusion matrix, 1 sample)", n)
	}
}

func TestShowNamesWhatIsMissing(t *testing.T) {
	work := evaluatedWorkdir(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nope"}, 1, `no run "nope"`},
		{[]string{reporttest.EvaluatedRun, "--ids", "7,99"}, 1, `image id 7 is not in split "val"`},
		{[]string{reporttest.EvaluatedRun, "--split", "test"}, 1, `no "test" split`},
		{[]string{reporttest.EvaluatedRun, "--split", "train", "--data"}, 1, `no "train" split`},
		{[]string{reporttest.EvaluatedRun, "--proposals"}, 1, "no proposals"},
		{[]string{reporttest.EvaluatedRun, "--ids", "1", "--worst", "2"}, 2, "--ids names the images"},
		{[]string{reporttest.EvaluatedRun, "--images", "2", "--best", "2"}, 2, "--worst/--best pick the images"},
		{[]string{reporttest.EvaluatedRun, "--data", "--worst", "2"}, 2, "--data draws no detections"},
		{[]string{"--data", "--annotations", "x.json"}, 2, "give --data, --image-root and --out"},
		{[]string{}, 2, "want one run name"},
	}
	for _, tc := range cases {
		code, _, errOut := pipeline(t, append([]string{"show", "--workdir", work}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("show %v: code %d, stderr %q; want code %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestShowDrawsAUsersCOCOSetWithoutARun(t *testing.T) {
	work := evaluatedWorkdir(t)
	ds := filepath.Join(work, reporttest.EvaluatedRun, "dataset")
	out := t.TempDir()
	code, stdout, errOut := pipeline(t, "show", "--data", "--annotations", filepath.Join(ds, "annotations", "instances_val.json"),
		"--image-root", filepath.Join(ds, "val"), "--out", out, "--images", "2")
	if code != 0 || strings.Count(stdout, "\n") != 2 {
		t.Fatalf("code %d, stdout %q, stderr %s", code, stdout, errOut)
	}
}

// checkPNG decodes a written picture and checks it is at least minWidth
// wide (its panels side by side).
func checkPNG(t *testing.T, path string, minWidth int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if img.Bounds().Dx() < minWidth {
		t.Errorf("%s is %d px wide, want at least %d", path, img.Bounds().Dx(), minWidth)
	}
}
