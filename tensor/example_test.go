package tensor_test

import (
	"fmt"

	"github.com/detflow/detflow/tensor"
)

// A persistent parameter, a scratch step and the gradient it leaves behind.
func Example() {
	e := tensor.NewEngine(tensor.NewCPU(0))
	w := e.NewPersistent(2).SetRequiresGrad(true)
	w.CopyFrom([]float32{1, -1})

	mark := e.Mark()
	x := e.FromData([]float32{3, 4}, 2)
	loss := tensor.Sum(tensor.Mul(w, x))
	loss.Backward()
	fmt.Println(loss.Item(), w.Grad().Data())
	e.Release(mark) // x, loss and the graph go back to the pool; w and its grad stay

	// Output: -1 [3 4]
}

func ExampleTopK() {
	e := tensor.NewEngine(tensor.NewCPU(0))
	scores := e.FromData([]float32{0.1, 0.9, 0.4, 0.9, 0.2}, 1, 5)
	v, idx := tensor.TopK(scores, 3, true)
	fmt.Println(v.Data(), idx.Data()) // ties keep input order
	// Output: [0.9 0.9 0.4] [1 3 2]
}
