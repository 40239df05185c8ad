package nn

import (
	"math"
	"testing"
)

// TestDynamicLossScaler follows GradScaler's update rule step by step: back
// off on overflow, grow after GrowthInterval clean steps, the count of
// clean steps restarting at each change.
func TestDynamicLossScaler(t *testing.T) {
	s := NewDynamicLossScaler()
	if s.Scale != 65536 || s.GrowthFactor != 2 || s.BackoffFactor != 0.5 || s.GrowthInterval != 2000 {
		t.Fatalf("defaults %+v, want GradScaler's 65536, 2, 0.5, 2000", *s)
	}
	s.GrowthInterval = 3
	steps := []struct {
		overflow bool
		want     float64
	}{
		{false, 65536}, {false, 65536}, {false, 131072}, // grows on the 3rd clean step
		{true, 65536}, {true, 32768}, // backs off on each overflow
		{false, 32768}, {false, 32768}, {true, 16384}, // an overflow restarts the count
		{false, 16384}, {false, 16384}, {false, 32768},
	}
	for i, st := range steps {
		s.Update(st.overflow)
		if s.Scale != st.want {
			t.Fatalf("step %d (overflow %v): scale %v, want %v", i+1, st.overflow, s.Scale, st.want)
		}
	}
}

func TestDynamicLossScalerStaysFinite(t *testing.T) {
	s := NewDynamicLossScaler()
	s.Scale, s.GrowthInterval = math.MaxFloat64, 1
	s.Update(false)
	if s.Scale != math.MaxFloat64 {
		t.Errorf("scale grew to %v", s.Scale)
	}
}

// TestStaticLossScaler: the scale never changes, whatever overflows.
func TestStaticLossScaler(t *testing.T) {
	s := NewStaticLossScaler(512)
	for _, o := range []bool{true, true, false, true, false} {
		s.Update(o)
		if s.Scale != 512 {
			t.Fatalf("static scale became %v", s.Scale)
		}
	}
}

func TestOverflowed(t *testing.T) {
	for v, want := range map[float64]bool{0: false, 3.5: false, math.Inf(1): true, math.NaN(): true} {
		if Overflowed(v) != want {
			t.Errorf("Overflowed(%v) = %v", v, !want)
		}
	}
}
