package dataset

import (
	"context"
	"strings"
	"testing"

	"github.com/detflow/detflow/storage/storagetest"
)

// TestSynthesizeAndValidateOnGCS runs both entry points against an
// in-process fake GCS server, so gs:// paths take the same code paths as
// local ones.
func TestSynthesizeAndValidateOnGCS(t *testing.T) {
	ctx := context.Background()
	fsys := storagetest.FakeGCS(t, "data")
	rep, err := Synthesize(ctx, fsys, SynthOptions{Out: "gs://data/synth", Train: 3, Val: 2, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 3+2+2 {
		t.Errorf("report lists %d files, want 7", len(rep.Files))
	}
	for _, f := range rep.Files {
		d, err := fsys.DigestFile(ctx, "gs://data/synth/"+f.Path)
		if err != nil || d != f.Digest {
			t.Errorf("%s: stored digest %+v (%v), report %+v", f.Path, d, err, f.Digest)
		}
	}
	sp := rep.Splits[0]
	r, err := Validate(ctx, fsys, ValidateOptions{Annotations: sp.Annotations, ImageRoot: sp.ImageRoot, CheckImages: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Err(); err != nil {
		t.Errorf("synthetic set on GCS rejected: %v", err)
	}
	// A missing object is reported like a missing local file.
	if err := fsys.Remove(ctx, sp.ImageRoot+"/"+imageFileName(2)); err != nil {
		t.Fatal(err)
	}
	r, err = Validate(ctx, fsys, ValidateOptions{Annotations: sp.Annotations, ImageRoot: sp.ImageRoot})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), RuleImageMissing+": 1") {
		t.Errorf("err = %v, want one missing image", err)
	}
}
