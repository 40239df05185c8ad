package gpu

import "fmt"

// Check verifies, without opening contexts, that the driver loads and
// initialises and that every ordinal names a device. Its error is meant to
// follow the --devices value in the CLI:
//
//	--devices cuda:0: no NVIDIA driver found (libcuda.so.1)
//	--devices cuda:0,2: cuda:2 does not exist (the driver sees 1 CUDA device)
func Check(ordinals []int) error {
	drv, err := LoadDriver()
	if err != nil {
		return err
	}
	if err := drv.Init(); err != nil {
		return fmt.Errorf("initialise CUDA driver %s: %w", drv.Path, err)
	}
	n, err := drv.DeviceCount()
	if err != nil {
		return err
	}
	for _, o := range ordinals {
		if o < 0 || o >= n {
			return fmt.Errorf("cuda:%d does not exist (the driver sees %d CUDA device%s)", o, n, plural(n))
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
