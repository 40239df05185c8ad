package detector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// roiAlignHostDevice is a device other than the CPU with the RoIAlignDevice
// capability, implemented with detection's CPU RoIAlign on its (host)
// buffers: the extractor's device path, its level sorting, row copies and
// DeviceOp backward, runs on it without a GPU. It counts the calls and
// checks every buffer against the geometry it is given.
type roiAlignHostDevice struct {
	*tensortest.HostDevice
	forwards, backwards int
}

var _ RoIAlignDevice = (*roiAlignHostDevice)(nil)

func checkRoIAlignBuffers(what string, a, b, rois tensor.Buffer, lenA, lenB int, g detection.RoIAlignGeom) {
	if a.Len() != lenA || b.Len() != lenB || rois.Len() != 5*g.R {
		panic(fmt.Sprintf("%s: buffers of %d, %d and %d values for geometry %+v", what, a.Len(), b.Len(), rois.Len(), g))
	}
	if err := g.Check(tensor.CPUData(rois)); err != nil {
		panic(fmt.Sprintf("%s: unchecked rois: %v", what, err))
	}
}

func (d *roiAlignHostDevice) RoIAlignForward(out, feat, rois tensor.Buffer, g detection.RoIAlignGeom) {
	d.forwards++
	checkRoIAlignBuffers("forward", out, feat, rois, g.OutLen(), g.FeatureLen(), g)
	fm := detection.FeatureMap{Data: tensor.CPUData(feat), N: g.N, C: g.C, H: g.H, W: g.W}
	pooled, err := detection.RoIAlign(fm, tensor.CPUData(rois), g.RoIAlignConfig)
	if err != nil {
		panic(err)
	}
	copy(tensor.CPUData(out), pooled)
}

func (d *roiAlignHostDevice) RoIAlignBackward(dfeat, dout, rois tensor.Buffer, g detection.RoIAlignGeom) {
	d.backwards++
	checkRoIAlignBuffers("backward", dfeat, dout, rois, g.FeatureLen(), g.OutLen(), g)
	shape := detection.FeatureMap{N: g.N, C: g.C, H: g.H, W: g.W}
	grad, err := detection.RoIAlignBackward(tensor.CPUData(dout), shape, tensor.CPUData(rois), g.RoIAlignConfig)
	if err != nil {
		panic(err)
	}
	df := tensor.CPUData(dfeat)
	for i, v := range grad {
		df[i] += v
	}
}

// deviceTestRoIs makes perLevel RoIs for each of 4 levels under finest scale
// 8 (sides 8·2^l to 8·2^(l+1) px) over a 64x64 image of batch 2, some partly
// outside the image, in an order that interleaves the levels.
func deviceTestRoIs(rng *rand.Rand, perLevel int) []float32 {
	var rois []float32
	for i := range perLevel {
		for l := range 4 {
			side := 8 * math.Pow(2, float64(l)) * (1.05 + 0.9*rng.Float64())
			aspect := 0.5 + rng.Float64()
			w, h := side*math.Sqrt(aspect), side/math.Sqrt(aspect)
			x1, y1 := 80*rng.Float64()-16, 80*rng.Float64()-16
			rois = append(rois, float32((i+l)%2), float32(x1), float32(y1), float32(x1+w), float32(y1+h))
		}
	}
	return rois
}

// sortRoIsByLevel returns rois reordered level by level (stable), so every
// level's rows are consecutive.
func sortRoIsByLevel(rois []float32, numLevels int, finestScale float64) []float32 {
	lv := detection.MapRoILevels(rois, numLevels, finestScale, false)
	var out []float32
	for l := range numLevels {
		for i, v := range lv {
			if v == l {
				out = append(out, rois[5*i:5*i+5]...)
			}
		}
	}
	return out
}

// extractorRun is one forward and backward pass of the extractor.
type extractorRun struct {
	out   []float32
	grads [][]float32 // nil for a level without gradient
}

func runExtractor(t *testing.T, dev tensor.Device, x *RoIExtractor, shapes [][]int, data [][]float32, frozen int, rois, w []float32, grad bool) extractorRun {
	t.Helper()
	e := tensor.NewEngine(dev)
	levels := make([]*tensor.Tensor, len(shapes))
	for l, s := range shapes {
		levels[l] = e.FromData(data[l], s...).SetRequiresGrad(l != frozen)
	}
	var out *tensor.Tensor
	var err error
	if grad {
		out, err = x.Forward(levels, rois)
	} else {
		e.NoGrad(func() { out, err = x.Forward(levels, rois) })
	}
	if err != nil {
		t.Fatal(err)
	}
	run := extractorRun{out: out.Data(), grads: make([][]float32, len(levels))}
	if !grad {
		if out.RequiresGrad() {
			t.Fatal("extractor output requires grad in no-grad mode")
		}
		return run
	}
	out.BackwardWith(e.FromData(w, out.Shape()...))
	for l, t := range levels {
		if g := t.Grad(); g != nil {
			run.grads[l] = g.Data()
		}
	}
	return run
}

// TestRoIExtractorDevicePathMatchesCPU runs the extractor on a device with
// the RoIAlign capability and on the CPU device (tensor.Custom) and requires
// bit-identical outputs and level gradients: both compute detection's
// RoIAlign on the same RoI rows, so any difference is a bug in the device
// path's sorting, row copies, views or gradient plumbing.
func TestRoIExtractorDevicePathMatchesCPU(t *testing.T) {
	const finest = 8
	strides := []int{4, 8, 16, 32}
	shapes := [][]int{{2, 3, 16, 16}, {2, 3, 8, 8}, {2, 3, 4, 4}, {2, 3, 2, 2}}
	rng := rand.New(rand.NewPCG(5, 6))
	data := make([][]float32, len(shapes))
	for l, s := range shapes {
		data[l] = make([]float32, s[0]*s[1]*s[2]*s[3])
		for i := range data[l] {
			data[l][i] = 2*rng.Float32() - 1
		}
	}
	interleaved := deviceTestRoIs(rng, 5)
	lv := detection.MapRoILevels(interleaved, len(strides), finest, false)
	for l := range strides {
		if !slices.Contains(lv, l) {
			t.Fatalf("no test RoI maps to level %d (levels %v)", l, lv)
		}
	}
	sorted := sortRoIsByLevel(interleaved, len(strides), finest)
	// Only small RoIs: levels 1 to 3 pool nothing.
	var small []float32
	for i, l := range lv {
		if l == 0 {
			small = append(small, interleaved[5*i:5*i+5]...)
		}
	}
	type roiSet struct {
		name   string
		rois   []float32
		levels []int // the levels with RoIs
	}
	all := []int{0, 1, 2, 3}
	sets := []roiSet{{"interleaved", interleaved, all}, {"sorted by level", sorted, all}, {"one level", small, []int{0}}, {"no rois", nil, nil}}
	for _, set := range sets {
		for _, ratio := range []int{0, 2} {
			for _, aligned := range []bool{false, true} {
				for _, frozen := range []int{-1, 1} {
					name := fmt.Sprintf("%s/ratio %d/aligned %v/frozen level %d", set.name, ratio, aligned, frozen)
					t.Run(name, func(t *testing.T) {
						x := NewRoIExtractor(RoIExtractorOptions{OutputSize: 3, SamplingRatio: ratio, Aligned: aligned, Strides: strides, FinestScale: finest})
						w := make([]float32, len(set.rois)/5*3*3*3)
						for i := range w {
							w[i] = 2*rng.Float32() - 1
						}
						want := runExtractor(t, tensor.NewCPU(1), x, shapes, data, frozen, set.rois, w, true)
						dev := &roiAlignHostDevice{HostDevice: tensortest.NewHostDevice(1)}
						got := runExtractor(t, dev, x, shapes, data, frozen, set.rois, w, true)
						if dev.forwards != len(set.levels) {
							t.Errorf("device forward ran %d times, want once per level with RoIs (%d)", dev.forwards, len(set.levels))
						}
						wantBackwards := len(set.levels)
						if slices.Contains(set.levels, frozen) {
							wantBackwards-- // the frozen level wants no gradient
						}
						if dev.backwards != wantBackwards {
							t.Errorf("device backward ran %d times, want %d", dev.backwards, wantBackwards)
						}
						if !slices.Equal(got.out, want.out) {
							t.Errorf("device output differs from the CPU path")
						}
						for l := range shapes {
							if (got.grads[l] == nil) != (want.grads[l] == nil) {
								t.Fatalf("level %d: device gradient present %v, CPU %v", l, got.grads[l] != nil, want.grads[l] != nil)
							}
							if !slices.Equal(got.grads[l], want.grads[l]) {
								t.Errorf("level %d: device gradient differs from the CPU path", l)
							}
						}
						if len(set.levels) > 0 && frozen < 0 && !slices.ContainsFunc(got.grads[0], func(v float32) bool { return v != 0 }) {
							t.Error("level 0: all-zero gradient; the test RoIs should reach it")
						}

						inferDev := &roiAlignHostDevice{HostDevice: tensortest.NewHostDevice(1)}
						infer := runExtractor(t, inferDev, x, shapes, data, frozen, set.rois, nil, false)
						if !slices.Equal(infer.out, want.out) {
							t.Errorf("no-grad device output differs from the CPU path")
						}
						if inferDev.forwards != len(set.levels) || inferDev.backwards != 0 {
							t.Errorf("no-grad run: %d forwards, %d backwards; want %d, 0", inferDev.forwards, inferDev.backwards, len(set.levels))
						}
					})
				}
			}
		}
	}
}

// TestRoIExtractorDevicePathErrors: bad RoIs are rejected on the host before
// any kernel runs, with the CPU path's error.
func TestRoIExtractorDevicePathErrors(t *testing.T) {
	shapes := [][]int{{2, 1, 8, 8}, {2, 1, 4, 4}}
	tests := []struct {
		name string
		rois []float32
	}{
		{"batch index", []float32{0, 0, 0, 4, 4, 2, 1, 1, 5, 5}},
		{"not finite", []float32{0, 0, 0, 40, 40, 1, 1, float32(math.Inf(1)), 5, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := NewRoIExtractor(RoIExtractorOptions{OutputSize: 2, Strides: []int{4, 8}, FinestScale: 8})
			forward := func(dev tensor.Device) error {
				e := tensor.NewEngine(dev)
				levels := make([]*tensor.Tensor, len(shapes))
				for l, s := range shapes {
					levels[l] = e.Zeros(s...).SetRequiresGrad(true)
				}
				_, err := x.Forward(levels, tc.rois)
				return err
			}
			wantErr := forward(tensor.NewCPU(1))
			if wantErr == nil {
				t.Fatal("CPU path accepted bad RoIs")
			}
			dev := &roiAlignHostDevice{HostDevice: tensortest.NewHostDevice(1)}
			err := forward(dev)
			if err == nil || err.Error() != wantErr.Error() {
				t.Fatalf("device path error %v, want %v", err, wantErr)
			}
			if dev.forwards != 0 {
				t.Errorf("device forward ran %d times on bad RoIs", dev.forwards)
			}
		})
	}
}
