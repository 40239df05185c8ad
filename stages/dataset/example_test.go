package dataset_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/storage"
)

func ExampleSynthesize() {
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	out, err := os.MkdirTemp("", "synth-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(out)

	rep, err := dataset.Synthesize(ctx, fsys, dataset.SynthOptions{Out: out, Train: 9, Val: 9, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range rep.Splits {
		r, err := dataset.Validate(ctx, fsys, dataset.ValidateOptions{Annotations: s.Annotations, ImageRoot: s.ImageRoot, CheckImages: true})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d images, valid: %v\n", s.Name, s.Images, r.Err() == nil)
	}
	// Output:
	// train: 9 images, valid: true
	// val: 9 images, valid: true
}
