package safetensors_test

import (
	"bytes"
	"fmt"

	"github.com/detflow/detflow/nn/safetensors"
)

func Example() {
	ts := []safetensors.Tensor{
		{Name: "fc.weight", DType: safetensors.F32, Shape: []int{2, 2}, F32: []float32{1, 2, 3, 4}},
		{Name: "step", DType: safetensors.I64, Shape: []int{}, I64: []int64{100}},
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, map[string]string{"format": "detflow"}); err != nil {
		fmt.Println(err)
		return
	}
	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		fmt.Println(err)
		return
	}
	w, _ := f.Get("fc.weight")
	step, _ := f.Get("step")
	fmt.Println(w.Shape, w.F32, step.I64, f.Metadata["format"])
	// Output: [2 2] [1 2 3 4] [100] detflow
}
