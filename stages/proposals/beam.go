package proposals

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // the synthetic set and COCO are JPEG
	_ "image/png"
	"reflect"
	"runtime"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"golang.org/x/sync/errgroup"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/selsearch"
	"github.com/detflow/detflow/storage"
)

func init() {
	register.DoFn3x1[context.Context, partSpec, func(partResult), error](&searchPartFn{})
	register.Emitter1[partResult]()
	register.Function2x1(addResults)
	register.DoFn1x1[partResult, error](&checkTotalFn{})
	beam.RegisterType(reflect.TypeOf((*partSpec)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*imageRef)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*partResult)(nil)).Elem())
}

// SelectiveSearch adds the selective search step to a Beam pipeline. It
// consumes a PCollection<partSpec>, reshuffles it so runners spread the
// parts over workers, writes one part file of schemas.ImageProposals per
// element, and checks that the parts written cover wantImages images.
//
// The per-part results go through a global sum so that the search has an
// output crossing a stage boundary: prism busy-polls a running bundle of a
// stage that has no outputs, which cost a third of the CPU here.
func SelectiveSearch(s beam.Scope, opts SearchOptions, parts beam.PCollection, wantImages int) {
	s = s.Scope("proposals.SelectiveSearch")
	parts = beam.Reshuffle(s, parts)
	results := beam.ParDo(s, &searchPartFn{Options: opts}, parts)
	total := beam.Combine(s, addResults, results)
	beam.ParDo0(s, &checkTotalFn{Step: "selective search", Images: wantImages}, total)
}

// partResult summarises one written part.
type partResult struct {
	Parts, Images, Boxes int
}

func addResults(a, b partResult) partResult {
	return partResult{Parts: a.Parts + b.Parts, Images: a.Images + b.Images, Boxes: a.Boxes + b.Boxes}
}

// checkTotalFn fails the pipeline when the parts did not cover every image
// exactly once (a runner that dropped or duplicated elements).
type checkTotalFn struct {
	Step   string // the step that wrote the parts, for the message
	Images int
}

func (f *checkTotalFn) ProcessElement(total partResult) error {
	if total.Images != f.Images {
		return fmt.Errorf("%s wrote %d parts with %d images, want %d images", f.Step, total.Parts, total.Images, f.Images)
	}
	return nil
}

// SearchOptions is the serialisable configuration of the search workers.
type SearchOptions struct {
	Mode      string
	BaseK     float64
	IncK      float64
	Sigma     float64
	MinRegion int
	MinSize   float64 // proposals.min_size
	// Workers bounds the images searched at once in one worker; 0 means
	// GOMAXPROCS.
	Workers int
	// StorageEndpoint, when set, points the workers' gs:// client at a GCS
	// emulator (see storage.Options.Endpoint).
	StorageEndpoint string
}

func (o SearchOptions) selsearch(seed uint64) selsearch.Options {
	return selsearch.Options{Mode: selsearch.Mode(o.Mode), BaseK: o.BaseK, IncK: o.IncK, Sigma: o.Sigma, MinRegion: o.MinRegion, Seed: seed}
}

// searchPartFn runs selective search on the images of a part and writes
// the part file. Storage is opened once per worker in Setup.
type searchPartFn struct {
	Options SearchOptions

	fsys *storage.FS
}

func (f *searchPartFn) Setup(ctx context.Context) error {
	// Local paths, and gs:// through Application Default Credentials or the
	// emulator the driver saw, in whichever process runs us.
	fsys, err := storage.New(ctx, storage.Options{Endpoint: f.Options.StorageEndpoint})
	if err != nil {
		return fmt.Errorf("selective search worker: %w", err)
	}
	f.fsys = fsys
	return nil
}

func (f *searchPartFn) Teardown() error {
	if f.fsys == nil {
		return nil
	}
	return f.fsys.Close()
}

func (f *searchPartFn) ProcessElement(ctx context.Context, part partSpec, emit func(partResult)) error {
	rows := make([]schemas.ImageProposals, len(part.Images))
	g, gctx := errgroup.WithContext(ctx)
	workers := f.Options.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g.SetLimit(workers)
	for i, im := range part.Images {
		g.Go(func() error {
			row, err := searchImage(gctx, f.fsys, f.Options, part, im)
			rows[i] = row
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("split %q part %d: %w", part.Split, part.Index, err)
	}
	if err := writePart(ctx, f.fsys, part.OutDir, part.Index, rows); err != nil {
		return err
	}
	res := partResult{Parts: 1, Images: len(rows)}
	for _, r := range rows {
		res.Boxes += r.Len()
	}
	emit(res)
	return nil
}

// searchImage decodes one image and returns its finished proposals. The
// ranking seed is the image id, so results do not depend on how images are
// spread over workers.
func searchImage(ctx context.Context, fsys *storage.FS, o SearchOptions, part partSpec, im imageRef) (schemas.ImageProposals, error) {
	row := schemas.ImageProposals{ImageID: im.ID, FileName: im.FileName, Split: part.Split, Width: int32(im.Width), Height: int32(im.Height)}
	p := storage.Join(part.ImageRoot, im.FileName)
	data, err := fsys.ReadFile(ctx, p)
	if err != nil {
		return row, fmt.Errorf("image %d: %w", im.ID, err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return row, fmt.Errorf("image %d: decode %s: %w", im.ID, p, err)
	}
	if b := img.Bounds(); b.Dx() != im.Width || b.Dy() != im.Height {
		return row, fmt.Errorf("image %d: %s is %dx%d, the annotations say %dx%d", im.ID, p, b.Dx(), b.Dy(), im.Width, im.Height)
	}
	props, err := selsearch.Search(img, o.selsearch(uint64(im.ID)))
	if err != nil {
		return row, fmt.Errorf("image %d: %w", im.ID, err)
	}
	boxes := make([]float32, 0, 4*len(props))
	scores := make([]float32, 0, len(props))
	for _, pr := range props {
		boxes = append(boxes, pr.Box[:]...)
		scores = append(scores, pr.Score)
	}
	row.Boxes, row.Scores = finish(boxes, scores, im.Width, im.Height, o.MinSize, part.TopK)
	return row, nil
}
