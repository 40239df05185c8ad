package pickle

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// proposalsPickle assembles, in protocol 4, what an MMDetection proposals
// file holds: a list of n (rows, 5) float32 arrays in numpy's _frombuffer
// form.
func proposalsPickle(n, rows int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x04](")
	data := make([]byte, rows*5*4)
	for i := 0; i < rows*5; i++ {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(i)))
	}
	for i := 0; i < n; i++ {
		b.WriteString("cnumpy.core.numeric\n_frombuffer\n(")
		b.WriteByte(opByteArray8)
		_ = binary.Write(&b, binary.LittleEndian, uint64(len(data)))
		b.Write(data)
		b.WriteString("cnumpy\ndtype\nX\x02\x00\x00\x00f4\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
		b.WriteString("J")
		_ = binary.Write(&b, binary.LittleEndian, int32(rows))
		b.WriteString("K\x05\x86X\x01\x00\x00\x00CtR")
	}
	b.WriteString("e.")
	return b.Bytes()
}

// BenchmarkDecodeProposals decodes 100 images x 1000 proposals (2 MB).
func BenchmarkDecodeProposals(b *testing.B) {
	data := proposalsPickle(100, 1000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		v, err := Unmarshal(data, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(v.([]any)) != 100 {
			b.Fatal("wrong length")
		}
	}
}

func TestProposalsPickleShape(t *testing.T) {
	v, err := Unmarshal(proposalsPickle(3, 4), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := v.([]any)[2].(*Array)
	if a.DType != "float32" || len(a.Shape) != 2 || a.Shape[0] != 4 || a.Shape[1] != 5 || a.F32[19] != 19 {
		t.Fatalf("got %+v", a)
	}
}
