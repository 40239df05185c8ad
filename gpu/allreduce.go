package gpu

import (
	"errors"
	"fmt"
)

// AllReduceSum sums the n-float buffers bufs[i] (bufs[i] lives on devs[i])
// elementwise and leaves the sum in every buffer: the gradient all-reduce
// of data-parallel replicas.
//
// This is the path without NCCL, which also serves replicas sharing one GPU
// ("--devices cuda:0,0", where NCCL refuses duplicate devices): each
// replica's buffer is copied to replica 0 (cuMemcpyPeer; a plain
// device-to-device copy within one GPU), summed there by the add kernel in
// replica order (so the result does not depend on timing), and copied back.
func AllReduceSum(devs []*Device, bufs []DevPtr, n int) error {
	if len(devs) != len(bufs) {
		return fmt.Errorf("all-reduce: %d devices but %d buffers", len(devs), len(bufs))
	}
	if len(devs) < 2 || n == 0 {
		return nil
	}
	root := devs[0]
	// Producers first: each replica's gradient must be complete.
	for i, d := range devs {
		if err := d.Synchronize(); err != nil {
			return fmt.Errorf("all-reduce: synchronise replica %d: %w", i, err)
		}
	}
	scratch, err := root.Alloc(4 * n)
	if err != nil {
		return fmt.Errorf("all-reduce: %w", err)
	}
	defer root.Free(scratch)
	for i := 1; i < len(devs); i++ {
		if err := root.CopyPeer(scratch, devs[i], bufs[i], 4*n); err != nil {
			return fmt.Errorf("all-reduce: gather replica %d: %w", i, err)
		}
		if err := root.Add(bufs[0], bufs[0], scratch, n); err != nil {
			return fmt.Errorf("all-reduce: add replica %d: %w", i, err)
		}
	}
	if err := root.Synchronize(); err != nil {
		return fmt.Errorf("all-reduce: %w", err)
	}
	var errs []error
	for i := 1; i < len(devs); i++ {
		if err := devs[i].CopyPeer(bufs[i], root, bufs[0], 4*n); err != nil {
			errs = append(errs, fmt.Errorf("all-reduce: broadcast to replica %d: %w", i, err))
		}
	}
	for i := 1; i < len(devs); i++ {
		if err := devs[i].Synchronize(); err != nil {
			errs = append(errs, fmt.Errorf("all-reduce: synchronise replica %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
