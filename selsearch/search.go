package selsearch

import (
	"errors"
	"image"
	"math/rand/v2"
)

// Proposal is one box, ranked.
type Proposal struct {
	// Box is [x1, y1, x2, y2] in pixels, ends exclusive (see the package doc).
	Box [4]float32
	// Score is 1/(1+v) for the paper's ranking value v: higher ranks first.
	// Proposals are returned sorted by descending score.
	Score float32
}

// Search returns the selective search proposals of img, best first and
// without duplicate boxes. The same image and options give the same result.
func Search(img image.Image, opts Options) ([]Proposal, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 {
		return nil, errors.New("selective search: empty image")
	}
	rgb := toRGB(img)
	p := opts.plan()
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5e1ec7))
	var all []ranked
	for _, space := range p.spaces {
		cimg := convert(rgb, space)
		feats := computeFeatures(cimg)
		g := buildGraph(cimg, opts.Sigma)
		for _, k := range p.ks {
			ir := newInitialRegions(feats, g.segment(k, opts.MinRegion))
			for _, m := range p.strategies {
				all = rankHierarchy(all, group(ir, m, rgb.w*rgb.h), rng)
			}
		}
	}
	return dedupe(all), nil
}
