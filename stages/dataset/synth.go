package dataset

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/detflow/detflow/storage"
)

// SynthVersion identifies the generator's output: the same options give
// the same bytes within one version. Bump it whenever a change alters what
// Synthesize writes (TestSynthesizeGolden fails until then), so that
// pipeline fingerprints, which should include it, see the change.
const SynthVersion = 1

// Defaults of SynthOptions.
const (
	DefaultWidth       = 320
	DefaultHeight      = 240
	DefaultJPEGQuality = 90
	minImageSide       = 64
)

// SynthOptions configures Synthesize.
type SynthOptions struct {
	// Out is the output directory (local or gs://). Files from an earlier
	// run that this run does not overwrite are left alone, so publish
	// through a fresh temporary directory.
	Out string
	// Train and Val are the number of images per split.
	Train, Val int
	// Seed fixes everything: the same seed gives byte-identical files.
	Seed int64
	// Width and Height of every image; 0 means DefaultWidth x DefaultHeight.
	// Sizes scale with min(Width, Height)/240.
	Width, Height int
	// Quality is the JPEG quality; 0 means DefaultJPEGQuality.
	Quality int
	// Workers renders images in parallel; 0 means GOMAXPROCS.
	Workers int
	// Progress, if not nil, is called after each image with the number of
	// images done and the total. Calls are serialised.
	Progress func(done, total int)
}

// SynthReport describes what Synthesize wrote.
type SynthReport struct {
	Out    string         `json:"out"`
	Splits []SplitSummary `json:"splits"`
	// Files lists every file written, relative to Out, sorted by path.
	Files []OutputFile `json:"files"`
}

// SplitSummary describes one split of the synthetic set.
type SplitSummary struct {
	Name        string `json:"name"`        // "train" or "val"
	Annotations string `json:"annotations"` // path of the instances JSON
	ImageRoot   string `json:"image_root"`  // directory that file_name values are relative to
	Images      int    `json:"images"`
	Objects     int    `json:"objects"` // annotations with iscrowd 0
	Crowds      int    `json:"crowds"`  // annotations with iscrowd 1
	// Small, Medium and Large count iscrowd-0 annotations by COCO area
	// range: area < 32^2, < 96^2, and the rest.
	Small  int `json:"small"`
	Medium int `json:"medium"`
	Large  int `json:"large"`
	// PerCategory counts iscrowd-0 annotations by category id - 1.
	PerCategory []int `json:"per_category"`
}

// OutputFile is one written file with its digest.
type OutputFile struct {
	Path string `json:"path"`
	storage.Digest
}

// split is one of the two parts of the set; its number enters the random
// seed of each image.
type split struct {
	name  string
	id    uint64
	count int
}

// renderedImage is one finished image and its annotations.
type renderedImage struct {
	jpeg []byte
	anns []imageAnnotation
}

// Synthesize writes a deterministic COCO-format detection set:
// Out/train/*.jpg, Out/val/*.jpg and Out/annotations/instances_{train,val}.json.
// Each image depends only on (Seed, split, index), so images render in
// parallel and the output is byte-identical for the same seed and build.
// Every file is written atomically. See the package documentation for what
// the images contain and how they are annotated.
func Synthesize(ctx context.Context, fsys *storage.FS, opts SynthOptions) (*SynthReport, error) {
	opts, err := synthDefaults(opts)
	if err != nil {
		return nil, err
	}
	splits := []split{{"train", 0, opts.Train}, {"val", 1, opts.Val}}
	total := opts.Train + opts.Val
	prog := newProgress(opts.Progress, total)
	report := &SynthReport{Out: opts.Out}
	for _, sp := range splits {
		sum, files, err := synthSplit(ctx, fsys, opts, sp, prog)
		if err != nil {
			return nil, fmt.Errorf("synthesize %s split in %q: %w", sp.name, opts.Out, err)
		}
		report.Splits = append(report.Splits, sum)
		report.Files = append(report.Files, files...)
	}
	sort.Slice(report.Files, func(i, j int) bool { return report.Files[i].Path < report.Files[j].Path })
	return report, nil
}

func synthDefaults(o SynthOptions) (SynthOptions, error) {
	if o.Out == "" {
		return o, errors.New("synthesize: empty output directory")
	}
	if o.Width == 0 && o.Height == 0 {
		o.Width, o.Height = DefaultWidth, DefaultHeight
	}
	if o.Width < minImageSide || o.Height < minImageSide {
		return o, fmt.Errorf("synthesize: image size %dx%d: each side must be at least %d", o.Width, o.Height, minImageSide)
	}
	if o.Train < 0 || o.Val < 0 || o.Train+o.Val == 0 {
		return o, fmt.Errorf("synthesize: %d train and %d val images: need a non-negative count and at least one image", o.Train, o.Val)
	}
	if o.Quality == 0 {
		o.Quality = DefaultJPEGQuality
	}
	if o.Quality < 1 || o.Quality > 100 {
		return o, fmt.Errorf("synthesize: jpeg quality %d not in [1, 100]", o.Quality)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o, nil
}

// progress serialises calls to a user callback from many workers.
type progress struct {
	mu    sync.Mutex
	done  int
	total int
	f     func(done, total int)
}

func newProgress(f func(done, total int), total int) *progress {
	return &progress{f: f, total: total}
}

func (p *progress) step() {
	if p.f == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.f(p.done, p.total)
}

// imageFileName is the file name of the image with the given COCO id.
func imageFileName(id int64) string { return fmt.Sprintf("%012d.jpg", id) }

// synthSplit renders and writes one split's images, then its JSON.
func synthSplit(ctx context.Context, fsys *storage.FS, o SynthOptions, sp split, prog *progress) (SplitSummary, []OutputFile, error) {
	imageRoot := storage.Join(o.Out, sp.name)
	annPath := storage.Join(o.Out, "annotations", "instances_"+sp.name+".json")
	results := make([]renderedImage, sp.count)
	files := make([]OutputFile, sp.count+1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for i := range sp.count {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			img, err := renderImage(o, sp.id, i)
			if err != nil {
				return err
			}
			name := imageFileName(int64(i + 1))
			d, err := fsys.WriteFile(gctx, storage.Join(imageRoot, name), img.jpeg)
			if err != nil {
				return err
			}
			files[i] = OutputFile{Path: sp.name + "/" + name, Digest: d}
			results[i] = renderedImage{anns: img.anns} // drop the bytes: they are on disk
			prog.step()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return SplitSummary{}, nil, err
	}
	doc, sum := buildCOCO(o, sp, results)
	sum.Annotations, sum.ImageRoot = annPath, imageRoot
	data, err := json.Marshal(doc)
	if err != nil {
		return SplitSummary{}, nil, fmt.Errorf("encode annotations: %w", err)
	}
	d, err := fsys.WriteFile(ctx, annPath, data)
	if err != nil {
		return SplitSummary{}, nil, err
	}
	files[sp.count] = OutputFile{Path: "annotations/instances_" + sp.name + ".json", Digest: d}
	return sum, files, nil
}

// buildCOCO assembles a split's COCO document, numbering annotations in
// image order, and summarises it.
func buildCOCO(o SynthOptions, sp split, results []renderedImage) (*cocoFile, SplitSummary) {
	doc := &cocoFile{
		Info: cocoInfo{
			Description: fmt.Sprintf("detflow synthetic shapes, %s split, seed %d", sp.name, o.Seed),
			Version:     "1",
			Year:        2026,
			Contributor: "detflow",
			DateCreated: "synthetic", // no clock: the same seed must give the same bytes
		},
		Licenses:    []struct{}{},
		Images:      make([]cocoImage, 0, len(results)),
		Annotations: []cocoAnnotation{},
		Categories:  SynthCategories(),
	}
	sum := SplitSummary{Name: sp.name, Images: len(results), PerCategory: make([]int, numShapes)}
	var annID int64
	for i, r := range results {
		imgID := int64(i + 1)
		doc.Images = append(doc.Images, cocoImage{ID: imgID, FileName: imageFileName(imgID), Width: o.Width, Height: o.Height})
		for _, a := range r.anns {
			annID++
			crowd := 0
			if a.crowd {
				crowd = 1
			}
			doc.Annotations = append(doc.Annotations, cocoAnnotation{
				ID: annID, ImageID: imgID, CategoryID: a.kind.categoryID(),
				Bbox: a.bbox, Area: float64(a.area), IsCrowd: crowd, Segmentation: a.segmentation,
			})
			sum.count(a)
		}
	}
	return doc, sum
}

func (s *SplitSummary) count(a imageAnnotation) {
	if a.crowd {
		s.Crowds++
		return
	}
	s.Objects++
	s.PerCategory[a.kind]++
	switch {
	case a.area < 32*32:
		s.Small++
	case a.area < 96*96:
		s.Medium++
	default:
		s.Large++
	}
}

// Random streams of one image; separate streams keep the background from
// shifting when the layout's retry count changes.
const (
	streamBackground = iota + 1
	streamLayout
	streamNoise
)

// imageRNG is the generator for one stream of one image, a function of
// (seed, split, index, stream) only.
func imageRNG(seed int64, splitID uint64, index int, stream uint64) *rand.Rand {
	a := splitmix64(uint64(seed) ^ splitmix64(splitID<<40|uint64(index)))
	return rand.New(rand.NewPCG(a, splitmix64(a^stream)))
}

// splitmix64 scrambles a 64-bit value (Steele et al.'s SplitMix finaliser)
// so that neighbouring indices get unrelated seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// renderImage draws and encodes one image.
func renderImage(o SynthOptions, splitID uint64, index int) (renderedImage, error) {
	scale := float64(min(o.Width, o.Height)) / 240
	c := newCanvas(o.Width, o.Height)
	paintBackground(c, imageRNG(o.Seed, splitID, index, streamBackground), scale)
	s := layoutScene(imageRNG(o.Seed, splitID, index, streamLayout), o.Width, o.Height, index)
	for _, obj := range s.objects {
		for i := range obj.parts {
			c.paint(obj.parts[i].mask, &obj.parts[i].fill)
		}
	}
	addNoise(c, imageRNG(o.Seed, splitID, index, streamNoise), noiseAmplitude)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, c.rgba(), &jpeg.Options{Quality: o.Quality}); err != nil {
		return renderedImage{}, fmt.Errorf("encode image %d: %w", index, err)
	}
	return renderedImage{jpeg: buf.Bytes(), anns: annotate(s)}, nil
}
