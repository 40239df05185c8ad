package safetensors

import (
	"bytes"
	"fmt"
	"testing"
)

// benchTensors is a ResNet-like state dict of n float32 tensors of size
// elements each plus a counter.
func benchTensors(n, size int) []Tensor {
	ts := []Tensor{{Name: "num_batches_tracked", DType: I64, Shape: []int{}, I64: []int64{1}}}
	for i := 0; i < n; i++ {
		data := make([]float32, size)
		for j := range data {
			data[j] = float32(j)
		}
		ts = append(ts, Tensor{Name: fmt.Sprintf("layer%d.weight", i), DType: F32, Shape: []int{size}, F32: data})
	}
	return ts
}

func BenchmarkWrite(b *testing.B) {
	ts := benchTensors(64, 1<<16) // 16 MB
	var buf bytes.Buffer
	b.SetBytes(64 << 18)
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, ts, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	if err := Write(&buf, benchTensors(64, 1<<16), nil); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
