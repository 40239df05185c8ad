package batch

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // stored images are JPEG or PNG
	_ "image/png"
	"math"
	"math/rand/v2"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
)

// Options configure the pipeline; FromConfig maps the `data` config section.
type Options struct {
	Scale       [2]int // [long side, short side] the image must fit in
	KeepRatio   bool
	FlipRatio   float64 // probability of a horizontal flip in training
	Mean, Std   [3]float32
	ToRGB       bool // channel order RGB (pytorch style) or BGR (caffe style)
	SizeDivisor int  // pad H and W to a multiple; 0: no padding
	// FloorSize floors the resized size as torchvision does (640x480 ->
	// 1066x800); MMDetection rounds (1067x800).
	FloorSize bool
	// Libjpeg converts 4:4:4, 4:2:2 and 4:2:0 JPEGs to RGB as libjpeg-turbo
	// (PIL, OpenCV) does: fancy chroma upsampling and its fixed-point
	// tables (libjpeg.go); otherwise as Go's image/jpeg does.
	Libjpeg bool
}

// FromConfig reads the data section of a config, and model.conventions.
func FromConfig(cfg *configs.Config) (Options, error) {
	d := cfg.Data
	if len(d.ImgScale) != 2 || len(d.Mean) != 3 || len(d.Std) != 3 {
		return Options{}, fmt.Errorf("data: img_scale needs 2 values and mean/std 3 each")
	}
	o := Options{Scale: [2]int{d.ImgScale[0], d.ImgScale[1]}, KeepRatio: d.KeepRatio, FlipRatio: d.FlipRatio,
		ToRGB: d.ToRGB, SizeDivisor: d.SizeDivisor, FloorSize: cfg.Model.Torchvision(),
		Libjpeg: cfg.Model.Torchvision()}
	for c := range 3 {
		o.Mean[c], o.Std[c] = float32(d.Mean[c]), float32(d.Std[c])
		if o.Std[c] == 0 {
			return Options{}, fmt.Errorf("data.std[%d] is 0", c)
		}
	}
	return o, nil
}

// Item is one prepared image with its targets in the resized frame.
type Item struct {
	ImageID      int64
	OrigW, OrigH int     // as stored
	W, H         int     // after resizing, before padding
	ScaleX       float32 // W / OrigW
	ScaleY       float32 // H / OrigH
	Flipped      bool
	Pixels       []float32 // normalised, [3,H,W]

	GTBoxes  []float32 // xyxy, 4 per box
	GTLabels []int32
	GTCrowd  []bool
	// GTMasks holds one instance mask per ground-truth object, in the same
	// order as GTLabels, in this item's frame (W x H: resized and flipped
	// with the image). Nil when the records carry no masks.
	GTMasks        []coco.RLE
	Proposals      []float32 // xyxy, 4 per box
	ProposalScores []float32
}

// Prepare decodes and transforms one record. rng decides the flip in
// training; pass train=false (and any rng) for inference.
func Prepare(rec *schemas.Record, o Options, train bool, rng *rand.Rand) (*Item, error) {
	img, _, err := image.Decode(bytes.NewReader(rec.Image))
	if err != nil {
		return nil, fmt.Errorf("decode image %d (%s): %w", rec.ImageID, rec.FileName, err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w != int(rec.Width) || h != int(rec.Height) {
		return nil, fmt.Errorf("image %d (%s) is %dx%d, its record says %dx%d", rec.ImageID, rec.FileName, w, h, rec.Width, rec.Height)
	}
	nw, nh := o.targetSize(w, h)
	it := &Item{ImageID: rec.ImageID, OrigW: w, OrigH: h, W: nw, H: nh,
		ScaleX: float32(nw) / float32(w), ScaleY: float32(nh) / float32(h)}
	it.Flipped = train && o.FlipRatio > 0 && rng.Float64() < o.FlipRatio
	it.Pixels = resample(rgbBytes(img, o.ToRGB, o.Libjpeg), w, h, nw, nh, it.Flipped, o.Mean, o.Std)
	it.GTBoxes = it.transformBoxes(rec.GTBoxes)
	it.GTLabels, it.GTCrowd = rec.GTLabels, rec.GTCrowd
	if it.GTMasks, err = it.transformMasks(rec); err != nil {
		return nil, err
	}
	it.Proposals = it.transformBoxes(rec.ProposalBoxes)
	it.ProposalScores = rec.ProposalScores
	return it, nil
}

// targetSize is MMDetection's rescale: with KeepRatio the largest size that
// fits Scale's long and short sides, rounded half up; otherwise Scale itself
// (as width x height for landscape images).
func (o Options) targetSize(w, h int) (int, int) {
	long, short := max(o.Scale[0], o.Scale[1]), min(o.Scale[0], o.Scale[1])
	if !o.KeepRatio {
		if w >= h {
			return long, short
		}
		return short, long
	}
	if o.FloorSize {
		// torchvision computes the factor in float32 as size * (1 / side)
		// (a Python float divided by a tensor is a reciprocal times the
		// float) and floors the size in float64 (interpolate with
		// recompute_scale_factor): 150x103 becomes 1165x799, not 1165x800.
		f := float64(min(float32(1/float32(max(w, h)))*float32(long), float32(1/float32(min(w, h)))*float32(short)))
		return int(float64(w) * f), int(float64(h) * f)
	}
	f := math.Min(float64(long)/float64(max(w, h)), float64(short)/float64(min(w, h)))
	return int(float64(w)*f + 0.5), int(float64(h)*f + 0.5)
}

// transformBoxes scales boxes to the resized image, clips them to it and
// mirrors them if the image was flipped.
func (it *Item) transformBoxes(in []float32) []float32 {
	out := make([]float32, len(in))
	W, H := float32(it.W), float32(it.H)
	for i := 0; i+3 < len(in); i += 4 {
		x1 := clamp(in[i]*it.ScaleX, 0, W)
		y1 := clamp(in[i+1]*it.ScaleY, 0, H)
		x2 := clamp(in[i+2]*it.ScaleX, 0, W)
		y2 := clamp(in[i+3]*it.ScaleY, 0, H)
		if it.Flipped {
			x1, x2 = W-x2, W-x1
		}
		out[i], out[i+1], out[i+2], out[i+3] = x1, y1, x2, y2
	}
	return out
}

func clamp(v, lo, hi float32) float32 { return min(max(v, lo), hi) }

// splitCoord clamps a source coordinate and splits it into a cell and a
// fraction.
func splitCoord(f float64, n int) (int, float64) {
	if f <= 0 {
		return 0, 0
	}
	i := int(f)
	if i >= n-1 {
		return n - 1, 0
	}
	return i, f - float64(i)
}
