package pth

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWriteReadsBack: what Write writes, Load reads with the same names,
// order, shapes and values (a scalar and an empty tensor included).
func TestWriteReadsBack(t *testing.T) {
	in := []WriteTensor{
		{Name: "b.weight", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6.5}},
		{Name: "a.bias", Shape: []int{2}, Data: []float32{-1, 0.25}},
		{Name: "scalar", Shape: []int{}, Data: []float32{7}},
		{Name: "empty", Shape: []int{0, 4}, Data: []float32{}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, "archive", in); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w.pth")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sd, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range in {
		names = append(names, w.Name)
		got := sd.Tensors[w.Name]
		if got == nil || !slices.Equal(got.Shape, w.Shape) || !slices.Equal(got.F32, w.Data) && len(w.Data) > 0 {
			t.Errorf("%s: got %+v, want %v %v", w.Name, got, w.Shape, w.Data)
		}
	}
	if !slices.Equal(sd.Names, names) {
		t.Errorf("names %v, want %v", sd.Names, names)
	}
	if err := Write(&buf, "archive", []WriteTensor{{Name: "x", Shape: []int{3}, Data: []float32{1}}}); err == nil {
		t.Error("wrote 1 value for shape [3]")
	}
}
