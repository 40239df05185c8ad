package gpu

import "fmt"

// Typed launchers for gpu/kernels/upsample.cu.

// UpsampleNearestFwd writes y ([NC,S·H,S·W]) from x ([NC,H,W]), nearest.
func (d *Device) UpsampleNearestFwd(y, x DevPtr, nc, h, w, s int) error {
	if s < 1 {
		return fmt.Errorf("upsample nearest: scale %d", s)
	}
	return d.launch1D(kUpsampleFwd, s*s*nc*h*w, y, x, i32(nc), i32(h), i32(w), i32(s))
}

// UpsampleNearestBwd overwrites dx with the sum of its S×S output gradients.
func (d *Device) UpsampleNearestBwd(dx, dy DevPtr, nc, h, w, s int) error {
	if s < 1 {
		return fmt.Errorf("upsample nearest: scale %d", s)
	}
	return d.launch1D(kUpsampleBwd, nc*h*w, dx, dy, i32(nc), i32(h), i32(w), i32(s))
}
