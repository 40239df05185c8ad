package dataset

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestValidateGolden pins the whole readable report of a file that breaks
// most rules at once.
func TestValidateGolden(t *testing.T) {
	r, err := Validate(context.Background(), localFS(t), ValidateOptions{
		Annotations: filepath.Join("testdata", "broken", "instances.json"),
		ImageRoot:   filepath.Join("testdata", "broken", "images"),
		CheckImages: true,
		Workers:     1,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := r.String() + "\nerror: " + r.Err().Error() + "\n"
	golden := filepath.Join("testdata", "broken.report.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}
