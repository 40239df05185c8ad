package evaluate

import (
	"fmt"

	"github.com/detflow/detflow/gpu/tensordev"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/tensor"
)

// inferDevice is the device a worker's inference runs on for --devices:
// the first GPU of a cuda spec, or "" for the CPU. Every DoFn instance in
// a process opens it with its own streams and model copy.
func inferDevice(d stages.Devices) string {
	if d.Kind == "cuda" && len(d.CUDA) > 0 {
		return fmt.Sprintf("cuda:%d", d.CUDA[0])
	}
	return ""
}

// openEngine returns an engine on device ("cuda:N", or "" for all CPU
// cores) and a function that releases the device.
func openEngine(device string) (*tensor.Engine, func() error, error) {
	if device == "" {
		return tensor.NewEngine(tensor.NewCPU(0)), func() error { return nil }, nil
	}
	spec, err := stages.ParseDevices(device)
	if err != nil || spec.Kind != "cuda" || len(spec.CUDA) != 1 {
		return nil, nil, fmt.Errorf("device %q: want cuda:N", device)
	}
	d, err := tensordev.Open(spec.CUDA[0])
	if err != nil {
		return nil, nil, fmt.Errorf("--devices %s: %w", device, err)
	}
	return tensor.NewEngine(d), d.Close, nil
}
