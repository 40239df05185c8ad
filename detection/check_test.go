package detection

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Parity tolerances against torchvision: |got-want| <= atol + rtol*|want|.
const (
	parityRtol = 1e-4
	parityAtol = 1e-5
)

// allClose fails t when got and want differ beyond atol + rtol*|want|,
// reporting the first few mismatches and the count.
func allClose(t *testing.T, name string, got, want []float32, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", name, len(got), len(want))
	}
	bad := 0
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.Abs(g-w) <= atol+rtol*math.Abs(w) || (math.IsNaN(g) && math.IsNaN(w)) {
			continue
		}
		if bad < 5 {
			t.Errorf("%s[%d] = %.9g, want %.9g", name, i, g, w)
		}
		bad++
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ", name, bad, len(got))
	}
}

func equalInts[T int | int32](t *testing.T, name string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", name, len(got), head(got), len(want), head(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %d, want %d (got %v, want %v)", name, i, got[i], want[i], head(got), head(want))
		}
	}
}

func head[T any](v []T) []T {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

func loadFixture(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode fixture %s: %v", name, err)
	}
}
