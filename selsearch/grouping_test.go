package selsearch

import (
	"reflect"
	"testing"
)

// referenceGroup is the obvious O(n²) hierarchical grouping, as OpenCV
// writes it: keep every live adjacent pair in a list, take the most similar
// (same order as pair.before), merge, replace the pairs of the two merged
// regions by pairs of the new one. The heap version must give the same
// hierarchy.
func referenceGroup(ir *initialRegions, m measure, imageSize int) []box {
	g := &grouping{
		imageSize: float32(imageSize), cw: ir.cw, tw: ir.tw,
		size: append([]int32(nil), ir.size...), box: append([]box(nil), ir.box...),
		colour: append([]float32(nil), ir.colour...), texture: append([]float32(nil), ir.texture...),
		alive: make([]bool, ir.n), nbrs: make([][]int32, ir.n),
	}
	var pairs []pair
	for _, p := range ir.pairs {
		pairs = append(pairs, pair{g.similarity(p[0], p[1], m), p[0], p[1]})
	}
	for len(pairs) > 0 {
		best := 0
		for i := range pairs {
			if pairs[i].before(pairs[best]) {
				best = i
			}
		}
		p := pairs[best]
		t := g.merge(p.a, p.b, m|measureColour|measureTexture)
		var nbs []int32
		kept := pairs[:0]
		for _, q := range pairs {
			other := int32(-1)
			switch {
			case q.a == p.a || q.a == p.b:
				other = q.b
			case q.b == p.a || q.b == p.b:
				other = q.a
			}
			if other < 0 {
				kept = append(kept, q)
				continue
			}
			if other != p.a && other != p.b && !containsRegion(nbs, other) {
				nbs = append(nbs, other)
			}
		}
		pairs = kept
		for _, nb := range sortedRegions(nbs) {
			pairs = append(pairs, pair{g.similarity(t, nb, m), t, nb})
		}
	}
	return g.box
}

func containsRegion(s []int32, r int32) bool {
	for _, x := range s {
		if x == r {
			return true
		}
	}
	return false
}

func sortedRegions(s []int32) []int32 {
	out := append([]int32(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestGroupMatchesReference(t *testing.T) {
	rects := [][4]int{{4, 4, 20, 18}, {30, 6, 44, 30}, {10, 24, 26, 34}, {36, 32, 46, 38}}
	img := scene(48, 40, 9, rects, testColours)
	rgb := toRGB(img)
	for _, space := range []colourSpace{spaceHSV, spaceLab, spaceIntensity} {
		cimg := convert(rgb, space)
		feats := computeFeatures(cimg)
		seg := buildGraph(cimg, 0.8).segment(50, 10)
		ir := newInitialRegions(feats, seg)
		if ir.n < 4 {
			t.Fatalf("space %d: only %d segments, the test needs a real hierarchy", space, ir.n)
		}
		all := measureColour | measureTexture | measureSize | measureFill
		for _, m := range []measure{all, measureTexture | measureSize | measureFill, measureFill, measureSize} {
			got := group(ir, m, 48*40)
			want := referenceGroup(ir, m, 48*40)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("space %d strategy %04b: heap grouping differs from the reference\n got %v\nwant %v", space, m, got, want)
			}
			if len(got) != 2*ir.n-1 {
				t.Errorf("space %d strategy %04b: %d regions from %d segments, want %d", space, m, len(got), ir.n, 2*ir.n-1)
			}
		}
	}
}
