package pth

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

type expected struct {
	Key     string   `json:"key"`
	Found   []string `json:"found"`
	Tensors map[string]struct {
		DType  string   `json:"dtype"`
		Shape  []int    `json:"shape"`
		Values []string `json:"values"`
	} `json:"tensors"`
	order []string
}

// readExpected loads <name>.json, keeping the tensor order of the file.
func readExpected(t *testing.T, name string) expected {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	var ordered struct {
		Tensors json.RawMessage `json:"tensors"`
	}
	_ = json.Unmarshal(raw, &ordered)
	dec := json.NewDecoder(strings.NewReader(string(ordered.Tensors)))
	_, _ = dec.Token()
	for dec.More() {
		tok, _ := dec.Token()
		e.order = append(e.order, tok.(string))
		var skip json.RawMessage
		_ = dec.Decode(&skip)
	}
	return e
}

// TestFixtures loads the torch.save files written by
// testdata/gen_fixtures.py and compares every tensor exactly.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"tiny_model.pth", "tiny_model"},
		{"views.pth", "views"},
		{"dtypes.pth", "dtypes"},
		{"mmdet_checkpoint.pth", "mmdet_checkpoint"},
		{"model_checkpoint.pth", "model_checkpoint"},
		// The same state dict as tiny_model, in the pre-1.6 format.
		{"legacy.pth", "tiny_model"},
		{"views_legacy.pth", "views"},
		{"dtypes_legacy.pth", "dtypes"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := readExpected(t, tc.want)
			sd, err := Load(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if sd.Key != want.Key {
				t.Errorf("picked key %q, want %q", sd.Key, want.Key)
			}
			if len(want.Found) > 0 && !reflect.DeepEqual(sd.Found, want.Found) {
				t.Errorf("found %q, want %q", sd.Found, want.Found)
			}
			if !reflect.DeepEqual(sd.Names, want.order) {
				t.Fatalf("names %q, want %q", sd.Names, want.order)
			}
			for _, n := range want.order {
				checkTensor(t, n, sd.Tensors[n], want.Tensors[n].DType, want.Tensors[n].Shape, want.Tensors[n].Values)
			}
		})
	}
}

func checkTensor(t *testing.T, name string, got *Tensor, dtype string, shape []int, values []string) {
	t.Helper()
	if got.DType != dtype {
		t.Fatalf("%s: dtype %s, want %s", name, got.DType, dtype)
	}
	if len(got.Shape) != len(shape) || (len(shape) > 0 && !reflect.DeepEqual(got.Shape, shape)) {
		t.Fatalf("%s: shape %v, want %v", name, got.Shape, shape)
	}
	if got.Len() != len(values) {
		t.Fatalf("%s: %d values, want %d", name, got.Len(), len(values))
	}
	for i, v := range values {
		if got.IsFloat() {
			w, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			if math.Float32bits(got.F32[i]) != math.Float32bits(float32(w)) {
				t.Fatalf("%s[%d] = %v, want %s", name, i, got.F32[i], v)
			}
			continue
		}
		w, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if got.I64[i] != w {
			t.Fatalf("%s[%d] = %d, want %d", name, i, got.I64[i], w)
		}
	}
}

func TestRefusedLayouts(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"tar.pth", []string{`tar.pth"`, "tar-based torch.save format", "torch.save(torch.load("}},
		{"scripted.pt", []string{"TorchScript archive", "state_dict()"}},
		{"whole_module.pth", []string{"pickled __main__.Tiny object", "state_dict()"}},
		{"tiny.pkl", []string{"plain pickle"}},
		{"missing.pth", []string{"no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := "testdata/" + tc.file
			content := map[string][]byte{
				"tiny.pkl": []byte("\x80\x02}q\x00."),
				"tar.pth":  append(make([]byte, 257), []byte("ustar\x0000")...),
			}
			if c, ok := content[tc.file]; ok {
				p = filepath.Join(t.TempDir(), tc.file)
				if err := os.WriteFile(p, c, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(p)
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestTruncated cuts every fixture short at many points: each cut must be
// an error, never a panic or a wrong state dict.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"legacy.pth", "tiny_model.pth"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n += 37 {
			if _, err := LoadReader(bytes.NewReader(data[:n]), int64(n)); err == nil {
				t.Fatalf("%s cut to %d of %d bytes loaded without error", name, n, len(data))
			}
		}
	}
}

func TestFormatReported(t *testing.T) {
	for file, want := range map[string]string{"legacy.pth": "legacy", "tiny_model.pth": "zip"} {
		c, err := Open(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if c.Format != want || c.ByteOrder != "little" {
			t.Errorf("%s: format %q byte order %q, want %q little", file, c.Format, c.ByteOrder, want)
		}
	}
}

func TestCheckpointKeys(t *testing.T) {
	c, err := Open(filepath.Join("testdata", "mmdet_checkpoint.pth"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StateDict("optimizer"); err == nil {
		t.Error("optimizer entry accepted as a state dict")
	} else if sd, _ := c.StateDict("state_dict"); sd == nil || sd.Len() != 8 {
		t.Errorf("explicit key: got %v", sd)
	}
	_, err = c.StateDict("nope")
	if err == nil || !strings.Contains(err.Error(), `no entry "nope"`) || !strings.Contains(err.Error(), `"meta"`) {
		t.Errorf("got %v", err)
	}
	// The metadata survives as plain values next to the tensors.
	root := c.Root.(interface{ Get(any) (any, bool) })
	meta, _ := root.Get("meta")
	if meta == nil {
		t.Fatal("meta missing")
	}
}

func TestMatch(t *testing.T) {
	sd, err := Load(filepath.Join("testdata", "tiny_model.pth"))
	if err != nil {
		t.Fatal(err)
	}
	expected := []string{"conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "head.weight"}
	missing, unexpected := Match(expected, sd)
	if !reflect.DeepEqual(missing, []string{"head.weight"}) {
		t.Errorf("missing %q", missing)
	}
	if !reflect.DeepEqual(unexpected, []string{"bn.num_batches_tracked", "fc.weight", "fc.bias"}) {
		t.Errorf("unexpected %q", unexpected)
	}
	bn := sd.TrimPrefix("bn.")
	if bn.Len() != 5 || bn.Tensors["num_batches_tracked"].I64[0] != 1234 {
		t.Errorf("TrimPrefix: %q", bn.Names)
	}
}

func TestMaterialiseBounds(t *testing.T) {
	st := &storage{key: "0", dtype: "float32", f32: []float32{0, 1, 2, 3, 4, 5}}
	tests := []struct {
		offset       int64
		size, stride []int64
		want         []float32
		err          string
	}{
		{0, []int64{2, 3}, []int64{3, 1}, []float32{0, 1, 2, 3, 4, 5}, ""},
		{0, []int64{3, 2}, []int64{1, 3}, []float32{0, 3, 1, 4, 2, 5}, ""},
		{1, []int64{2}, []int64{2}, []float32{1, 3}, ""},
		{2, []int64{2, 2}, []int64{0, 1}, []float32{2, 3, 2, 3}, ""},
		{6, []int64{0}, []int64{1}, []float32{}, ""},
		{100, []int64{0, 2}, []int64{2, 1}, []float32{}, ""},
		{4, []int64{1, 2}, []int64{7, 1}, []float32{4, 5}, ""},
		{5, []int64{2}, []int64{1}, nil, "reaches element 6"},
		{0, []int64{2, 3}, []int64{4, 1}, nil, "reaches element 6"},
	}
	for _, tc := range tests {
		got, err := materialise(st, tc.offset, tc.size, tc.stride)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v/%v@%d: got %v, want %q", tc.size, tc.stride, tc.offset, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got.F32, tc.want) {
			t.Errorf("%v/%v@%d: got %v %v, want %v", tc.size, tc.stride, tc.offset, got, err, tc.want)
		}
	}
}
