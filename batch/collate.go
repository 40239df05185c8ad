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
	return Pad(items, div).Upload(e)
}

// Padded is a batch's images padded to a common size in host memory: the
// part of Collate that a data loader can do ahead of the step.
type Padded struct {
	Data  []float32 // [N,3,H,W]
	H, W  int
	Items []*Item
}

// Pad pads items to a common size (PaddedSize) on the host.
func Pad(items []*Item, div int) *Padded {
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
	return &Padded{Data: data, H: H, W: W, Items: items}
}

// Upload copies the padded images to e's device as the batch's tensor.
func (p *Padded) Upload(e *tensor.Engine) *Batch {
	return &Batch{Images: e.FromData(p.Data, len(p.Items), 3, p.H, p.W), Items: p.Items}
}
