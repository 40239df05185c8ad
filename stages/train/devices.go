package train

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/detflow/detflow/gpu/tensordev"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/tensor"
)

// openDevices opens one GPU per replica of a "cuda:..." spec (an ordinal
// may repeat: replicas sharing a GPU get their own streams and allocators)
// and returns them as tensor devices with a function that closes them,
// freeing whatever the models still hold. A CPU spec returns nil devices:
// the trainer then makes CPU engines itself.
func openDevices(spec stages.Devices) ([]tensor.Device, func() error, error) {
	if spec.Kind != "cuda" {
		return nil, func() error { return nil }, nil
	}
	var opened []*tensordev.Device
	closeAll := func() error {
		var errs []error
		for _, d := range opened {
			errs = append(errs, d.Close())
		}
		return errors.Join(errs...)
	}
	devs := make([]tensor.Device, 0, len(spec.CUDA))
	for _, o := range spec.CUDA {
		d, err := tensordev.Open(o)
		if err != nil {
			_ = closeAll()
			return nil, nil, fmt.Errorf("--devices %s: %w", spec, err)
		}
		opened = append(opened, d)
		devs = append(devs, d)
	}
	return devs, closeAll, nil
}

// logDevices logs each GPU replica's device and convolution library.
func logDevices(log *slog.Logger, devs []tensor.Device) {
	for r, d := range devs {
		if td, ok := d.(*tensordev.Device); ok {
			log.Info("replica device", "replica", r, "device", td.Name(), "gpu", td.GPU().Info().Name, "convolutions", td.ConvLibrary())
		}
	}
}
