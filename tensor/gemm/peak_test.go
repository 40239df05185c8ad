package gemm

import (
	"math"
	"testing"
	"time"
)

// TestPeakLoops checks that every FMA loop runs exactly iters iterations on
// its chains: three chains summed give 3*iters*x*x.
func TestPeakLoops(t *testing.T) {
	const iters, x = 1000, 0.5
	for _, l := range runnablePeakLoops() {
		if got, want := l.fn(iters, x), float32(3*iters*x*x); got != want {
			t.Errorf("%s: got %g, want %g", l.name, got, want)
		}
		if got := l.fn(0, x); got != 0 {
			t.Errorf("%s with 0 iterations: got %g, want 0", l.name, got)
		}
	}
}

func TestMeasurePeakGFLOPSPositive(t *testing.T) {
	g := MeasurePeakGFLOPS(5 * time.Millisecond)
	if !(g > 0) || math.IsInf(g, 0) {
		t.Fatalf("MeasurePeakGFLOPS = %g, want a positive finite rate", g)
	}
}
