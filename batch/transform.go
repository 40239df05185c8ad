package batch

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
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
	planes := toPlanes(img, o.ToRGB, o.Libjpeg)
	if nw != w || nh != h {
		planes = resizeBilinear(planes, w, h, nw, nh)
	}
	if it.Flipped {
		flipPlanes(planes, nw, nh)
	}
	for c := range 3 {
		m, s := o.Mean[c], o.Std[c]
		p := planes[c*nw*nh : (c+1)*nw*nh]
		for i, v := range p {
			p[i] = (v - m) / s
		}
	}
	it.Pixels = planes
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

// toPlanes converts an image to float32 [3,H,W] in 0..255, RGB or BGR,
// YCbCr as libjpeg does when libjpeg is set.
func toPlanes(img image.Image, rgb, libjpeg bool) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, 3*w*h)
	r, g, bl := out[:w*h], out[w*h:2*w*h], out[2*w*h:]
	if !rgb {
		r, bl = bl, r
	}
	ycc, isYCC := img.(*image.YCbCr)
	if isYCC && libjpeg {
		if R, G, B, ok := libjpegRGB(ycc); ok {
			for i := range R {
				r[i], g[i], bl[i] = float32(R[i]), float32(G[i]), float32(B[i])
			}
			return out
		}
	}
	if isYCC {
		for y := range h {
			for x := range w {
				c := ycc.YCbCrAt(b.Min.X+x, b.Min.Y+y)
				R, G, B := yccToRGB(c.Y, c.Cb, c.Cr)
				i := y*w + x
				r[i], g[i], bl[i] = R, G, B
			}
		}
		return out
	}
	for y := range h {
		for x := range w {
			R, G, B, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*w + x
			r[i], g[i], bl[i] = float32(R>>8), float32(G>>8), float32(B>>8)
		}
	}
	return out
}

func yccToRGB(y, cb, cr uint8) (float32, float32, float32) {
	R, G, B := color.YCbCrToRGB(y, cb, cr)
	return float32(R), float32(G), float32(B)
}

// resizeBilinear resizes each plane with half-pixel centres, as OpenCV's
// INTER_LINEAR does (MMDetection resizes with cv2).
func resizeBilinear(src []float32, w, h, nw, nh int) []float32 {
	dst := make([]float32, 3*nw*nh)
	sx, sy := float64(w)/float64(nw), float64(h)/float64(nh)
	for c := range 3 {
		s, d := src[c*w*h:(c+1)*w*h], dst[c*nw*nh:(c+1)*nw*nh]
		for y := range nh {
			fy := (float64(y)+0.5)*sy - 0.5
			y0, ty := splitCoord(fy, h)
			y1 := min(y0+1, h-1)
			for x := range nw {
				fx := (float64(x)+0.5)*sx - 0.5
				x0, tx := splitCoord(fx, w)
				x1 := min(x0+1, w-1)
				top := float64(s[y0*w+x0])*(1-tx) + float64(s[y0*w+x1])*tx
				bot := float64(s[y1*w+x0])*(1-tx) + float64(s[y1*w+x1])*tx
				d[y*nw+x] = float32(top*(1-ty) + bot*ty)
			}
		}
	}
	return dst
}

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

func flipPlanes(p []float32, w, h int) {
	for row := 0; row < 3*h; row++ {
		r := p[row*w : (row+1)*w]
		for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
	}
}
