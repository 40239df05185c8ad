package tensortest

import "github.com/detflow/detflow/tensor"

// HostDevice is a Device that is not *tensor.CPU but runs the CPU kernels
// on host memory. Code written for any device (custom operators, copies
// between replicas, uploads of batches) takes its non-CPU paths on it, so
// those paths are tested on machines without a GPU.
type HostDevice struct {
	*tensor.CPU
}

// NewHostDevice returns a HostDevice with workers goroutines per kernel
// (<= 0: GOMAXPROCS).
func NewHostDevice(workers int) *HostDevice {
	return &HostDevice{CPU: tensor.NewCPU(workers)}
}

// Name implements tensor.Device.
func (*HostDevice) Name() string { return "host" }
