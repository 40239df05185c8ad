package selsearch

// similarity is the strategy m's similarity of regions a and b: the mean of
// the measures it uses, each in [0, 1].
func (g *grouping) similarity(a, b int32, m measure) float32 {
	var s float32
	var k int
	if m&measureColour != 0 {
		s += intersect(g.colourRow(a), g.colourRow(b))
		k++
	}
	if m&measureTexture != 0 {
		s += intersect(g.textureRow(a), g.textureRow(b))
		k++
	}
	if m&measureSize != 0 {
		s += 1 - float32(g.size[a]+g.size[b])/g.imageSize
		k++
	}
	if m&measureFill != 0 {
		bb := union(g.box[a], g.box[b])
		s += 1 - (float32(area(bb))-float32(g.size[a]+g.size[b]))/g.imageSize
		k++
	}
	return s / float32(k)
}

// intersect is the histogram intersection sum(min(x, y)).
func intersect(x, y []float32) float32 {
	var s float32
	y = y[:len(x)]
	for i, v := range x {
		s += min(v, y[i])
	}
	return s
}

// box is a region's bounding box [x0, y0, x1, y1] with inclusive pixel ends.
type box [4]int32

func union(a, b box) box {
	return box{min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])}
}

func area(b box) int64 { return int64(b[2]-b[0]+1) * int64(b[3]-b[1]+1) }
