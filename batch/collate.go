package batch

import (
	"github.com/detflow/detflow/tensor"
)

// Batch is a padded image tensor and the items it holds, in order.
type Batch struct {
	Images *tensor.Tensor // [N,3,H,W], zero padding bottom and right
	Items  []*Item
}

// PaddedSize is the smallest H and W holding every item, rounded up to a
// multiple of div (when div > 0).
func PaddedSize(items []*Item, div int) (h, w int) {
	for _, it := range items {
		h, w = max(h, it.H), max(w, it.W)
	}
	if div > 0 {
		h, w = (h+div-1)/div*div, (w+div-1)/div*div
	}
	return h, w
}

// Collate pads items to a common size and copies them into one tensor.
func Collate(e *tensor.Engine, items []*Item, div int) *Batch {
	H, W := PaddedSize(items, div)
	data := make([]float32, len(items)*3*H*W)
	for n, it := range items {
		for c := range 3 {
			dst := data[(n*3+c)*H*W:]
			src := it.Pixels[c*it.H*it.W:]
			for y := 0; y < it.H; y++ {
				copy(dst[y*W:y*W+it.W], src[y*it.W:(y+1)*it.W])
			}
		}
	}
	return &Batch{Images: e.FromData(data, len(items), 3, H, W), Items: items}
}
