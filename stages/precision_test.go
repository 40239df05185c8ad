package stages

import (
	"strings"
	"testing"

	"github.com/detflow/detflow/tensor"
)

type fakeConvMath struct {
	tensor.Device
	tf32 []bool
}

func (f *fakeConvMath) SetConvTF32(on bool) error { f.tf32 = append(f.tf32, on); return nil }

func TestParsePrecision(t *testing.T) {
	for name, want := range map[string]Precision{
		"fp32": {Name: "fp32"},
		"tf32": {Name: "tf32", ConvTF32: true},
		"fp16": {Name: "fp16", Autocast: tensor.AutocastFP16, ConvTF32: true},
		"bf16": {Name: "bf16", Autocast: tensor.AutocastBF16, ConvTF32: true},
	} {
		got, err := ParsePrecision(name)
		if err != nil || got != want {
			t.Errorf("ParsePrecision(%q) = %+v, %v; want %+v", name, got, err, want)
		}
	}
	_, err := ParsePrecision("half")
	if err == nil || err.Error() != `train.precision "half": want one of fp32, tf32, fp16, bf16` {
		t.Errorf("ParsePrecision(half): %v", err)
	}
}

// TestPrecisionApply: the engine's autocast and the device's convolution
// math type follow the precision.
func TestPrecisionApply(t *testing.T) {
	dev := &fakeConvMath{Device: tensor.NewCPU(1)}
	for _, name := range []string{"fp32", "tf32", "fp16"} {
		p, _ := ParsePrecision(name)
		e := tensor.NewEngine(dev)
		if err := p.Apply(e); err != nil {
			t.Fatal(err)
		}
		if e.Autocast() != p.Autocast {
			t.Errorf("%s: autocast %v", name, e.Autocast())
		}
	}
	if got := dev.tf32; len(got) != 3 || got[0] || !got[1] || !got[2] {
		t.Errorf("conv TF32 settings %v, want [false true true]", got)
	}
	p, _ := ParsePrecision("tf32")
	if d := p.Describe("cpu"); !strings.Contains(d, "tf32 computes as fp32 on CPU") {
		t.Errorf("tf32 on cpu: %q", d)
	}
}
