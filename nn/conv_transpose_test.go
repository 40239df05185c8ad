package nn

import (
	"slices"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// TestConvTranspose2dDoublesTheMaskHeadGrid: FCNMaskHead's deconvolution
// (kernel 2, stride 2) maps 14x14 to 28x28, each input pixel spreading its
// kernel over its own 2x2 block, and names its parameters as PyTorch does.
func TestConvTranspose2dDoublesTheMaskHeadGrid(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	l := NewConvTranspose2d(e, ConvTranspose2dConfig{In: 1, Out: 1, Kernel: 2, Stride: 2, Bias: true})
	l.Weight.CopyFrom([]float32{1, 2, 3, 4})
	l.Bias.CopyFrom([]float32{0.5})
	x := make([]float32, 14*14)
	x[0], x[14*14-1] = 1, -1
	y := l.Forward(e.FromData(x, 1, 1, 14, 14))
	if got := y.Shape(); !slices.Equal(got, []int{1, 1, 28, 28}) {
		t.Fatalf("shape %v, want [1 1 28 28]", got)
	}
	d := y.Data()
	for _, c := range []struct {
		i    int
		want float32
	}{{0, 1.5}, {1, 2.5}, {28, 3.5}, {29, 4.5}, {2, 0.5}, {28*28 - 1, -3.5}, {28*27 + 26, -2.5}, {28*26 + 26, -0.5}} {
		if d[c.i] != c.want {
			t.Errorf("y[%d] = %v, want %v", c.i, d[c.i], c.want)
		}
	}
	var names []string
	for _, p := range l.Params() {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"weight", "bias"}) {
		t.Errorf("params %v", names)
	}
}
