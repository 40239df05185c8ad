package selsearch

import (
	"math/rand/v2"
	"slices"
)

// ranked is one box of one hierarchy with its ranking value.
type ranked struct {
	box   box
	value float64 // RND * position in the hierarchy; lower ranks first
	order int     // generation order, breaks ties
}

// rankHierarchy gives every region of one hierarchy (boxes in creation
// order) the paper's value RND*i, where i = 1 is the last region created,
// the one covering the whole image.
func rankHierarchy(dst []ranked, boxes []box, rng *rand.Rand) []ranked {
	n := len(boxes)
	for idx, b := range boxes {
		pos := float64(n - idx)
		dst = append(dst, ranked{box: b, value: rng.Float64() * pos, order: len(dst)})
	}
	return dst
}

// dedupe sorts by value and keeps the first occurrence of every box.
func dedupe(all []ranked) []Proposal {
	slices.SortFunc(all, func(x, y ranked) int {
		switch {
		case x.value < y.value:
			return -1
		case x.value > y.value:
			return 1
		}
		return x.order - y.order
	})
	seen := make(map[box]bool, len(all))
	out := make([]Proposal, 0, len(all))
	for _, r := range all {
		if seen[r.box] {
			continue
		}
		seen[r.box] = true
		out = append(out, Proposal{
			Box:   [4]float32{float32(r.box[0]), float32(r.box[1]), float32(r.box[2] + 1), float32(r.box[3] + 1)},
			Score: float32(1 / (1 + r.value)),
		})
	}
	return out
}
