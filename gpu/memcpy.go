package gpu

import (
	"fmt"
	"unsafe"
)

// The synchronous copies below queue on the compute stream and wait for it,
// so they see every kernel queued before them (the streams are
// non-blocking, so the legacy synchronous cuMemcpy would not).

// Write copies host bytes to device memory and waits.
func (d *Device) Write(dst DevPtr, src unsafe.Pointer, bytes int) error {
	if bytes == 0 {
		return nil
	}
	return d.do(func() error {
		if err := d.drv.check("cuMemcpyHtoDAsync_v2", d.drv.cuMemcpyHtoDAsync(uintptr(dst), src, uint64(bytes), d.stream)); err != nil {
			return err
		}
		return d.drv.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.stream))
	})
}

// Read copies device memory to host bytes after the queued work finishes.
func (d *Device) Read(dst unsafe.Pointer, src DevPtr, bytes int) error {
	if bytes == 0 {
		return nil
	}
	return d.do(func() error {
		if err := d.drv.check("cuMemcpyDtoHAsync_v2", d.drv.cuMemcpyDtoHAsync(dst, uintptr(src), uint64(bytes), d.stream)); err != nil {
			return err
		}
		return d.drv.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.stream))
	})
}

// WriteFloat32 copies src to device memory at dst.
func (d *Device) WriteFloat32(dst DevPtr, src []float32) error {
	if len(src) == 0 {
		return nil
	}
	return d.Write(dst, unsafe.Pointer(&src[0]), 4*len(src))
}

// ReadFloat32 copies len(dst) float32s from device memory at src.
func (d *Device) ReadFloat32(dst []float32, src DevPtr) error {
	if len(dst) == 0 {
		return nil
	}
	return d.Read(unsafe.Pointer(&dst[0]), src, 4*len(dst))
}

// WriteInt32 copies src to device memory at dst.
func (d *Device) WriteInt32(dst DevPtr, src []int32) error {
	if len(src) == 0 {
		return nil
	}
	return d.Write(dst, unsafe.Pointer(&src[0]), 4*len(src))
}

// ReadInt32 copies len(dst) int32s from device memory at src.
func (d *Device) ReadInt32(dst []int32, src DevPtr) error {
	if len(dst) == 0 {
		return nil
	}
	return d.Read(unsafe.Pointer(&dst[0]), src, 4*len(dst))
}

// ReadUint64 copies len(dst) uint64s from device memory at src.
func (d *Device) ReadUint64(dst []uint64, src DevPtr) error {
	if len(dst) == 0 {
		return nil
	}
	return d.Read(unsafe.Pointer(&dst[0]), src, 8*len(dst))
}

// CopyDtoD queues a device-to-device copy on the compute stream.
func (d *Device) CopyDtoD(dst, src DevPtr, bytes int) error {
	return d.do(func() error {
		return d.drv.check("cuMemcpyDtoDAsync_v2", d.drv.cuMemcpyDtoDAsync(uintptr(dst), uintptr(src), uint64(bytes), d.stream))
	})
}

// Memset32 queues setting n 32-bit words at dst to v.
func (d *Device) Memset32(dst DevPtr, v uint32, n int) error {
	return d.do(func() error {
		return d.drv.check("cuMemsetD32Async", d.drv.cuMemsetD32Async(uintptr(dst), v, uint64(n), d.stream))
	})
}

// Upload queues an asynchronous copy of a pinned buffer to dst on the copy
// stream and makes the compute stream wait for it, so the copy of the next
// batch overlaps the compute of this one. The caller keeps src unchanged
// until the compute stream has passed this point.
func (d *Device) Upload(dst DevPtr, src PinnedBuffer, bytes int) error {
	if bytes > src.Bytes {
		return fmt.Errorf("upload %d bytes from a %d-byte pinned buffer", bytes, src.Bytes)
	}
	return d.do(func() error {
		drv := d.drv
		if err := drv.check("cuMemcpyHtoDAsync_v2", drv.cuMemcpyHtoDAsync(uintptr(dst), cPtr(src.Ptr), uint64(bytes), d.copyStr)); err != nil {
			return err
		}
		var ev uintptr
		// CU_EVENT_DISABLE_TIMING (2): a pure ordering event is cheaper.
		if err := drv.check("cuEventCreate", drv.cuEventCreate(&ev, 2)); err != nil {
			return err
		}
		err := drv.check("cuEventRecord", drv.cuEventRecord(ev, d.copyStr))
		if err == nil {
			err = drv.check("cuStreamWaitEvent", drv.cuStreamWaitEvent(d.stream, ev, 0))
		}
		// Destroying a recorded event is allowed; the wait still holds.
		if derr := drv.check("cuEventDestroy_v2", drv.cuEventDestroy(ev)); err == nil {
			err = derr
		}
		return err
	})
}

// CopyPeer copies bytes from src on device sd to dst on d, across contexts
// (cuMemcpyPeerAsync on d's compute stream). Both Devices may be the same
// GPU (replicas "cuda:0,0").
func (d *Device) CopyPeer(dst DevPtr, sd *Device, src DevPtr, bytes int) error {
	return d.do(func() error {
		return d.drv.check("cuMemcpyPeerAsync", d.drv.cuMemcpyPeerAsync(uintptr(dst), d.ctx, uintptr(src), sd.ctx, uint64(bytes), d.stream))
	})
}

// Time runs f and returns the GPU time in milliseconds between events
// recorded on the compute stream before and after it.
func (d *Device) Time(f func() error) (float32, error) {
	var start uintptr
	if err := d.do(func() (err error) { start, err = d.recordEvent(); return err }); err != nil {
		return 0, err
	}
	ferr := f()
	var ms float32
	err := d.do(func() error {
		defer d.drv.cuEventDestroy(start)
		end, err := d.recordEvent()
		if err != nil {
			return err
		}
		defer d.drv.cuEventDestroy(end)
		if err := d.drv.check("cuEventSynchronize", d.drv.cuEventSynchronize(end)); err != nil {
			return err
		}
		return d.drv.check("cuEventElapsedTime", d.drv.cuEventElapsedTime(&ms, start, end))
	})
	if ferr != nil {
		return 0, ferr
	}
	return ms, err
}

// recordEvent creates an event and records it on the compute stream; the
// caller destroys it. Inside do.
func (d *Device) recordEvent() (uintptr, error) {
	var ev uintptr
	if err := d.drv.check("cuEventCreate", d.drv.cuEventCreate(&ev, 0)); err != nil {
		return 0, err
	}
	if err := d.drv.check("cuEventRecord", d.drv.cuEventRecord(ev, d.stream)); err != nil {
		d.drv.cuEventDestroy(ev)
		return 0, err
	}
	return ev, nil
}
