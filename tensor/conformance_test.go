package tensor_test

import (
	"testing"

	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// TestCPUConformance runs the backend suite on a multi-worker CPU device
// against the single-worker reference.
func TestCPUConformance(t *testing.T) {
	tensortest.Run(t, tensor.NewCPU(4), tensortest.Tolerance{})
}
