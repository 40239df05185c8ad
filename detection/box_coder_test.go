package detection

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBoxCoderKnownValues(t *testing.T) {
	ref := []float32{0, 0, 10, 20}
	gt := []float32{5, 0, 25, 40}
	// Centres (5,10) -> (15,20), sizes (10,20) -> (20,40).
	raw := []float32{1, 0.5, float32(math.Log(2)), float32(math.Log(2))}
	for _, tc := range []struct {
		name  string
		coder BoxCoder
		want  []float32
	}{
		{"rpn stds 1", RPNBoxCoder(), raw},
		{"roi stds", RoIBoxCoder(), []float32{10, 5, raw[2] / 0.2, raw[3] / 0.2}},
		{"means", BoxCoder{Means: [4]float64{1, 0, 0, 0}, Stds: [4]float64{1, 1, 1, 1}}, []float32{0, 0.5, raw[2], raw[3]}},
		// Legacy widths 11 and 21: centres (5,10) -> (15,20), sizes (11,21) -> (21,41).
		{"legacy", BoxCoder{Stds: [4]float64{1, 1, 1, 1}, Legacy: true},
			[]float32{10.0 / 11, 10.0 / 21, float32(math.Log(21.0 / 11)), float32(math.Log(41.0 / 21))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.coder.Encode(ref, gt)
			allClose(t, "encode", d, tc.want, 1e-6, 1e-7)
			allClose(t, "decode", tc.coder.Decode(ref, d), gt, 1e-6, 1e-5)
		})
	}
}

func TestBoxCoderRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	// Sizes within a factor 30 of each other: inside the log(1000/16) clamp.
	ref := randomBoxes(rng, 100, 500, 10, 300)
	gt := randomBoxes(rng, 100, 500, 10, 300)
	for _, c := range []BoxCoder{RPNBoxCoder(), RoIBoxCoder(), {Stds: [4]float64{1, 1, 1, 1}, Legacy: true}} {
		allClose(t, "round trip", c.Decode(ref, c.Encode(ref, gt)), gt, 1e-5, 1e-3)
	}
}

func TestBoxCoderClampsWidthRatio(t *testing.T) {
	c := RPNBoxCoder()
	ref := []float32{0, 0, 16, 16}
	maxR := math.Log(1000.0 / 16)
	half := float32(8 * math.Exp(maxR)) // 500
	got := c.Decode(ref, []float32{0, 0, 10, -10})
	// dw is clamped to +log(1000/16), dh to -log(1000/16): both sides.
	want := []float32{8 - half, 8 - float32(8*math.Exp(-maxR)), 8 + half, 8 + float32(8*math.Exp(-maxR))}
	allClose(t, "clamped", got, want, 1e-5, 1e-4)
}

func TestBoxCoderPerClassDeltasAndClip(t *testing.T) {
	c := RoIBoxCoder()
	ref := []float32{10, 10, 20, 20, 0, 0, 4, 4}
	deltas := []float32{
		0, 0, 0, 0, 10, 0, 0, 0, // ref 0: class 0 identity, class 1 shifted by one width
		0, 0, 0, 0, -10, -10, 0, 0, // ref 1: class 1 shifted off the image
	}
	got := c.Decode(ref, deltas)
	want := []float32{10, 10, 20, 20, 20, 10, 30, 20, 0, 0, 4, 4, -4, -4, 0, 0}
	allClose(t, "per class", got, want, 1e-6, 1e-5)
	clipped := c.DecodeClipped(ref, deltas, 25, 25)
	allClose(t, "clipped", clipped, []float32{10, 10, 20, 20, 20, 10, 25, 20, 0, 0, 4, 4, 0, 0, 0, 0}, 1e-6, 1e-5)
}

func TestBoxCoderLegacyDecodeMatchesFormula(t *testing.T) {
	// legacy_delta2bbox: x1 = gx - gw/2 + 0.5, x2 = gx + gw/2 - 0.5, with
	// pw = x2-x1+1; zero deltas give back the box.
	c := BoxCoder{Stds: [4]float64{1, 1, 1, 1}, Legacy: true}
	ref := []float32{3, 4, 12, 20}
	allClose(t, "identity", c.Decode(ref, []float32{0, 0, 0, 0}), ref, 0, 1e-5)
	// dw = log 2: width 10 -> 20, centre 7.5 -> x1 = 7.5-10+0.5 = -2, x2 = 17.
	allClose(t, "double width", c.Decode(ref, []float32{0, 0, float32(math.Log(2)), 0}), []float32{-2, 4, 17, 20}, 0, 1e-5)
}
