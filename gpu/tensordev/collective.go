package tensordev

import (
	"fmt"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

var _ tensor.CollectiveMaker = (*Device)(nil)

// NewCollective implements tensor.CollectiveMaker with NCCL: one
// communicator rank per Device of group, which must be distinct GPUs. It
// fails, and data-parallel replicas fall back to peer copies, when NCCL is
// not installed or when the group repeats a GPU (NCCL refuses "cuda:0,0").
func (d *Device) NewCollective(group []tensor.Device) (tensor.Collective, error) {
	gs := make([]*gpu.Device, len(group))
	for i, m := range group {
		td, ok := m.(*Device)
		if !ok {
			return nil, fmt.Errorf("nccl: replica %d is on %s, not a GPU", i, m.Name())
		}
		gs[i] = td.g
	}
	c, err := gpu.NewNCCL(gs)
	if err != nil {
		return nil, err
	}
	return &collective{c: c}, nil
}

// collective adapts gpu.NCCL to tensor.Collective.
type collective struct{ c *gpu.NCCL }

func (c *collective) ReduceSum(bufs [][]tensor.Buffer) error {
	rows, counts := devRows(bufs)
	return c.c.ReduceSum(rows, counts)
}

func (c *collective) Broadcast(bufs [][]tensor.Buffer) error {
	rows, counts := devRows(bufs)
	return c.c.Broadcast(rows, counts)
}

func (c *collective) String() string { return c.c.String() }
func (c *collective) Close() error   { return c.c.Close() }

// devRows turns rows of tensor buffers into device addresses and lengths;
// every buffer of a row must have rank 0's length.
func devRows(bufs [][]tensor.Buffer) ([][]gpu.DevPtr, []int) {
	rows := make([][]gpu.DevPtr, len(bufs))
	counts := make([]int, len(bufs))
	for t, row := range bufs {
		counts[t] = row[0].Len()
		rows[t] = make([]gpu.DevPtr, len(row))
		for r, b := range row {
			checkLen(fmt.Sprintf("collective tensor %d rank %d", t, r), counts[t], b.Len())
			rows[t][r] = ptr(b)
		}
	}
	return rows, counts
}
