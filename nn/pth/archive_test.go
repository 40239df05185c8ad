package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tensorPickle is a data.pkl holding OrderedDict(w=<tensor>) whose storage
// is record "0" of numel elements, viewed with the given offset, size and
// stride (two dimensions, small values).
func tensorPickle(storageType string, numel, offset, s0, s1, st0, st1 int) string {
	return "\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00w" +
		"ctorch._utils\n_rebuild_tensor_v2\n(" +
		"(X\x07\x00\x00\x00storagectorch\n" + storageType + "\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpu" + fmt.Sprintf("K%ct", numel) +
		"Q" + fmt.Sprintf("K%c", offset) + fmt.Sprintf("K%cK%c\x86K%cK%c\x86", s0, s1, st0, st1) +
		"\x89ccollections\nOrderedDict\n)Rt" + "Ru."
}

// makeArchive zips records under "arc/".
func makeArchive(t testing.TB, records map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(records))
	for n := range records {
		names = append(names, n)
	}
	for _, n := range sortStrings(names) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "arc/" + n, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(records[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func floatBytes(bo binary.ByteOrder, v ...float32) []byte {
	out := make([]byte, 4*len(v))
	for i, f := range v {
		bo.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}

func TestBigEndianArchive(t *testing.T) {
	data := makeArchive(t, map[string][]byte{
		"data.pkl":  []byte(tensorPickle("FloatStorage", 4, 0, 2, 2, 1, 2)),
		"data/0":    floatBytes(binary.BigEndian, 1, 2, 3, 4),
		"byteorder": []byte("big"),
	})
	sd, err := LoadReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	// Strides (1, 2) are a transpose: row-major [1 3 2 4].
	if got := sd.Tensors["w"].F32; !reflect.DeepEqual(got, []float32{1, 3, 2, 4}) {
		t.Fatalf("got %v", got)
	}
}

func TestCorruptArchives(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name    string
		records map[string][]byte
		want    string
	}{
		{"storage missing", map[string][]byte{"data.pkl": []byte(tensorPickle("FloatStorage", 4, 0, 2, 2, 2, 1))},
			"storage record arc/data/0 missing"},
		{"storage size", map[string][]byte{"data.pkl": []byte(tensorPickle("FloatStorage", 4, 0, 2, 2, 2, 1)), "data/0": floatBytes(le, 1, 2, 3)},
			"has 12 bytes, want 16"},
		{"view past storage", map[string][]byte{"data.pkl": []byte(tensorPickle("FloatStorage", 4, 1, 2, 2, 2, 1)), "data/0": floatBytes(le, 1, 2, 3, 4)},
			"reaches element 4"},
		{"complex storage", map[string][]byte{"data.pkl": []byte(tensorPickle("ComplexFloatStorage", 4, 0, 2, 2, 2, 1)), "data/0": floatBytes(le, 1, 2, 3, 4)},
			"torch.ComplexFloatStorage not supported"},
		{"broadcast bomb", map[string][]byte{"data.pkl": []byte(strings.Replace(tensorPickle("FloatStorage", 4, 0, 2, 2, 0, 0), "K\x02K\x02\x86", "J\x00\x00\x02\x00J\x00\x01\x00\x00\x86", 1)), "data/0": floatBytes(le, 1, 2, 3, 4)},
			"more than the 16777216 this importer materialises"},
		{"bad byteorder", map[string][]byte{"data.pkl": []byte(tensorPickle("FloatStorage", 4, 0, 2, 2, 2, 1)), "data/0": floatBytes(le, 1, 2, 3, 4), "byteorder": []byte("middle")},
			`byteorder record says "middle"`},
		{"no data.pkl", map[string][]byte{"data/0": floatBytes(le, 1)},
			"has 0 <archive>/data.pkl records"},
		{"truncated pickle", map[string][]byte{"data.pkl": []byte(tensorPickle("FloatStorage", 4, 0, 2, 2, 2, 1))[:60], "data/0": floatBytes(le, 1, 2, 3, 4)},
			"decode arc/data.pkl: pickle: unexpected end of data"},
		{"quantized", map[string][]byte{"data.pkl": []byte("\x80\x02}(X\x01\x00\x00\x00qctorch._utils\n_rebuild_qtensor\n)Ru.")},
			`state dict entry "q" is built by torch._utils._rebuild_qtensor`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := makeArchive(t, tc.records)
			_, err := LoadReader(bytes.NewReader(data), int64(len(data)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "pth: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

func FuzzLoadReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pth"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := LoadReader(bytes.NewReader(data), int64(len(data)))
		if err == nil {
			Match([]string{"x"}, sd)
		}
	})
}

// FuzzDataPickle puts fuzzed bytes in data.pkl next to a real storage, so
// the fuzzer reaches the tensor rebuilding code instead of the zip reader.
func FuzzDataPickle(f *testing.F) {
	f.Add([]byte(tensorPickle("FloatStorage", 4, 0, 2, 2, 2, 1)))
	f.Add([]byte(tensorPickle("LongStorage", 2, 0, 1, 2, 0, 1)))
	f.Add([]byte(tensorPickle("HalfStorage", 8, 1, 2, 3, 3, 1)))
	storage := floatBytes(binary.LittleEndian, 1, 2, 3, 4)
	f.Fuzz(func(t *testing.T, pkl []byte) {
		data := makeArchive(t, map[string][]byte{"data.pkl": pkl, "data/0": storage})
		_, _ = LoadReader(bytes.NewReader(data), int64(len(data)))
	})
}
