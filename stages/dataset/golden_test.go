package dataset

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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

// TestSynthesizeGolden pins the digests of a tiny synthetic set, so that an
// unintended change to the generator cannot slip through. After an intended
// change, bump SynthVersion and rerun with -update. Floating point (fused
// multiply-add) and image/jpeg may differ on other architectures, hence
// amd64 only.
func TestSynthesizeGolden(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("digests are pinned on amd64, this is %s", runtime.GOARCH)
	}
	rep := synthesize(t, SynthOptions{Out: t.TempDir(), Train: 3, Val: 2, Seed: 2026})
	var b strings.Builder
	fmt.Fprintf(&b, "SynthVersion %d\n", SynthVersion)
	for _, f := range rep.Files {
		fmt.Fprintf(&b, "%s %d %s\n", f.Path, f.Size, f.SHA256)
	}
	golden := filepath.Join("testdata", "synth.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if b.String() != string(want) {
		t.Errorf("synthetic output changed; if intended, bump SynthVersion and run with -update\ngot:\n%s\nwant:\n%s", b.String(), want)
	}
}
