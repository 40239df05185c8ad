package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/detflow/detflow/float16"
)

// TestReadPythonFixture reads testdata/tiny.safetensors, written by hand in
// Python from the format description, and compares with tiny.json.
func TestReadPythonFixture(t *testing.T) {
	f, err := ReadFile(filepath.Join("testdata", "tiny.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "tiny.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Metadata map[string]string `json:"metadata"`
		Tensors  map[string]struct {
			DType  string `json:"dtype"`
			Shape  []int  `json:"shape"`
			Values []any  `json:"values"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, want.Metadata) {
		t.Errorf("metadata %v, want %v", f.Metadata, want.Metadata)
	}
	if len(f.Tensors) != len(want.Tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(want.Tensors))
	}
	for name, w := range want.Tensors {
		got, ok := f.Get(name)
		if !ok {
			t.Fatalf("tensor %q missing", name)
		}
		if string(got.DType) != w.DType || !reflect.DeepEqual(got.Shape, w.Shape) {
			t.Fatalf("%s: %s %v, want %s %v", name, got.DType, got.Shape, w.DType, w.Shape)
		}
		if got.Len() != len(w.Values) {
			t.Fatalf("%s: %d values, want %d", name, got.Len(), len(w.Values))
		}
		for i, v := range w.Values {
			switch x := v.(type) {
			case string:
				wf, _ := strconv.ParseFloat(x, 64)
				if got.F32[i] != float32(wf) {
					t.Errorf("%s[%d] = %v, want %v", name, i, got.F32[i], x)
				}
			case float64:
				if got.I64[i] != int64(x) {
					t.Errorf("%s[%d] = %v, want %v", name, i, got.I64[i], x)
				}
			}
		}
	}
	for i := 1; i < len(f.Tensors); i++ {
		if f.Tensors[i-1].Name >= f.Tensors[i].Name {
			t.Fatalf("tensors not sorted by name")
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ts := []Tensor{
		{Name: "b.weight", DType: F32, Shape: []int{2, 3}, F32: []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0}},
		{Name: "a.num_batches_tracked", DType: I64, Shape: []int{}, I64: []int64{math.MinInt64}},
		{Name: "c.odd", DType: F32, Shape: []int{1}, F32: []float32{7}},
		{Name: "d.ids", DType: I32, Shape: []int{2}, I64: []int64{-5, math.MaxInt32}},
		{Name: "e.mask", DType: BOOL, Shape: []int{3}, I64: []int64{1, 0, 1}},
		{Name: "f.u8", DType: U8, Shape: []int{1}, I64: []int64{200}},
		{Name: "g.f64", DType: F64, Shape: []int{1}, F32: []float32{0.1}},
		{Name: "h.empty", DType: F32, Shape: []int{0, 4}, F32: []float32{}},
	}
	meta := map[string]string{"step": "12", "format": "detflow"}
	var buf bytes.Buffer
	if err := Write(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := Write(&again, ts, meta); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("two writes of the same tensors differ")
	}
	n := binary.LittleEndian.Uint64(buf.Bytes())
	if (8+n)%8 != 0 {
		t.Fatalf("data section starts at %d, not 8-byte aligned", 8+n)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, meta) {
		t.Fatalf("metadata %v", f.Metadata)
	}
	for _, w := range ts {
		got, ok := f.Get(w.Name)
		if !ok {
			t.Fatalf("%q missing", w.Name)
		}
		if got.DType != w.DType || !reflect.DeepEqual(got.Shape, w.Shape) {
			t.Fatalf("%q: %s %v, want %s %v", w.Name, got.DType, got.Shape, w.DType, w.Shape)
		}
		if w.DType.IsFloat() {
			if !reflect.DeepEqual(got.F32, w.F32) {
				t.Fatalf("%q: %v, want %v", w.Name, got.F32, w.F32)
			}
		} else if !reflect.DeepEqual(got.I64, w.I64) {
			t.Fatalf("%q: %v, want %v", w.Name, got.I64, w.I64)
		}
	}
	// Every tensor starts at a multiple of its element size.
	hdr, err := readHeader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range hdr.entries {
		if e.begin%int64(e.dtype.Size()) != 0 {
			t.Errorf("%q starts at %d, not aligned to %d", e.name, e.begin, e.dtype.Size())
		}
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		ts   []Tensor
		want string
	}{
		{"duplicate", []Tensor{{Name: "a", DType: F32, Shape: []int{1}, F32: []float32{1}}, {Name: "a", DType: F32, Shape: []int{1}, F32: []float32{1}}}, `"a" given twice`},
		{"length", []Tensor{{Name: "a", DType: F32, Shape: []int{2}, F32: []float32{1}}}, "holds 2 elements but F32 has 1"},
		{"dtype", []Tensor{{Name: "a", DType: F16, Shape: []int{1}, F32: []float32{1}}}, `writing dtype "F16" is not supported`},
		{"range", []Tensor{{Name: "a", DType: U8, Shape: []int{1}, I64: []int64{256}}}, "does not fit U8"},
		{"reserved", []Tensor{{Name: "__metadata__", DType: F32, Shape: []int{}, F32: []float32{1}}}, "invalid tensor name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(&bytes.Buffer{}, tc.ts, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// file assembles a safetensors file from a header string and data length.
func file(header string, data int) []byte {
	var b bytes.Buffer
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	b.Write(n[:])
	b.WriteString(header)
	b.Write(make([]byte, data))
	return b.Bytes()
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"short", []byte{1, 2}, "shorter than the 8-byte header length"},
		{"header too long", file("{}", 0)[:9], "exceeds the file size"},
		{"not json", file("[1]", 0), "does not start with '{'"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), `overlap tensor "a"`},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "leave a gap at byte 0"},
		{"past end", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), "run past the data section"},
		{"leftover", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8), "data section has 8 bytes but the tensors cover 4"},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), "needs 12 bytes"},
		{"reversed", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, 8), "not an increasing range"},
		{"dtype", file(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, 1), `dtype "F8_E4M3" not supported`},
		{"duplicate", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2), `"a" appears twice`},
		{"missing field", file(`{"a":{"dtype":"U8","shape":[1]}}`, 1), "all required"},
		{"unknown field", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}}`, 1), "unknown field"},
		{"negative dim", file(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, 1), "negative dimension"},
		{"bad metadata", file(`{"__metadata__":{"a":1}}`, 0), "must map strings to strings"},
		{"bad utf8", file("{\"\xff\":{}}", 0), "not valid UTF-8"},
		{"trailing", file(`{} x`, 0), "unexpected bytes after the JSON object"},
		{"bad bool", file(`{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, 0), "run past"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestBoolBytesChecked(t *testing.T) {
	data := file(`{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`+"      ", 1)
	data[len(data)-1] = 2
	_, err := Read(bytes.NewReader(data), int64(len(data)))
	if err == nil || !strings.Contains(err.Error(), "neither 0 nor 1") {
		t.Fatalf("got %v", err)
	}
}

func TestHalfToFloat32(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.9604645e-08}, {0x8000, float32(math.Copysign(0, -1))},
		{0x7c00, float32(math.Inf(1))}, {0x3555, 0.33325195},
	}
	for _, tc := range tests {
		if got := float16.ToFloat32(tc.h); math.Float32bits(got) != math.Float32bits(tc.want) {
			t.Errorf("half 0x%04x = %v, want %v", tc.h, got, tc.want)
		}
	}
	if !math.IsNaN(float64(float16.ToFloat32(0x7e00))) {
		t.Error("half NaN not NaN")
	}
}

func FuzzRead(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "tiny.safetensors"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		// Whatever reads must write and read back the same.
		var buf bytes.Buffer
		var writable []Tensor
		for _, tn := range got.Tensors {
			if checkWritable(&tn) == nil {
				writable = append(writable, tn)
			}
		}
		if err := Write(&buf, writable, got.Metadata); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		if _, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
			t.Fatalf("reread: %v", err)
		}
	})
}
