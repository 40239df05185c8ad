package pth

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// BenchmarkLoadTransposed loads a 1024x1024 float32 tensor (4 MB) stored
// as a transposed view, so the strided gather is measured along with the
// zip and pickle work.
func BenchmarkLoadTransposed(b *testing.B) {
	const n = 1024
	vals := make([]float32, n*n)
	for i := range vals {
		vals[i] = float32(i)
	}
	pkl := tensorPickle("FloatStorage", 0, 0, 0, 0, 1, 0)
	// Patch the pickle's one-byte fields for sizes above 255.
	pkl = "\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00w" +
		"ctorch._utils\n_rebuild_tensor_v2\n(" +
		"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuJ\x00\x00\x10\x00t" +
		"QK\x00M\x00\x04M\x00\x04\x86K\x01M\x00\x04\x86" +
		"\x89ccollections\nOrderedDict\n)Rt" + "Ru."
	data := makeArchive(b, map[string][]byte{"data.pkl": []byte(pkl), "data/0": floatBytes(binary.LittleEndian, vals...)})
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sd, err := LoadReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if sd.Tensors["w"].F32[1] != n {
			b.Fatal("not transposed")
		}
	}
}
