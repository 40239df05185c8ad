package pth_test

import (
	"fmt"

	"github.com/detflow/detflow/nn/pth"
)

func ExampleLoad() {
	// An MMDetection checkpoint: {"meta": ..., "state_dict": ..., "optimizer": ...}.
	sd, err := pth.Load("testdata/mmdet_checkpoint.pth")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("took %q of %q\n", sd.Key, sd.Found)
	missing, unexpected := pth.Match([]string{"conv.weight", "bn.weight", "cls.weight"}, sd)
	fmt.Println("missing:", missing)
	fmt.Println("unexpected:", unexpected)
	w, _ := sd.Get("conv.weight")
	fmt.Println(w.DType, w.Shape)
	// Output:
	// took "state_dict" of ["meta" "state_dict" "optimizer"]
	// missing: [cls.weight]
	// unexpected: [bn.bias bn.running_mean bn.running_var bn.num_batches_tracked fc.weight fc.bias]
	// float32 [4 3 3 3]
}
