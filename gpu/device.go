package gpu

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"unsafe"
)

// Device is one replica's handle on a GPU: the device's primary context, a
// compute stream, a copy stream for uploads to idle buffers, a caching
// allocator, a ring of pinned staging memory for asynchronous uploads and
// the kernels loaded so far. Two Devices may share a GPU
// ("--devices cuda:0,0"): they share the primary context and have their
// own streams and allocators. Methods are safe for concurrent use; calls are
// serialised per Device.
type Device struct {
	drv     *Driver
	info    DeviceInfo
	dev     int32
	ctx     uintptr
	stream  uintptr // compute stream (non-blocking)
	copyStr uintptr // host-to-device upload stream (non-blocking)
	ptx     ptxSource

	mu       sync.Mutex
	args     *kernelArgs
	modules  map[string]uintptr
	funcs    map[string]uintptr
	hasPTX   map[string]bool // HasModule's answers
	alloc    *CachingAllocator
	pinned   *CachingAllocator
	stage    stager      // pinned staging of small uploads (compute stream)
	bigStage stager      // pinned staging of large uploads (copy stream)
	devStage []*devStage // device staging blocks of large uploads, a ring
	devCur   int
	blas     *BLAS
	dnn      *DNN
	dnnErr   error     // why cuDNN is not used, once known
	convTF32 *bool     // SetConvTF32's choice; nil: DETFLOW_TF32 decides
	prof     *profiler // nil unless StartProfile
	closed   bool
}

// CU_STREAM_NON_BLOCKING: the stream does not synchronise with the legacy
// default stream, so replicas sharing a GPU do not serialise each other.
const streamNonBlocking = 1

// Open loads the driver (a *NoDriverError without one), initialises it and
// opens device ordinal with its primary context and two streams.
func Open(ordinal int) (*Device, error) {
	drv, err := LoadDriver()
	if err != nil {
		return nil, err
	}
	return OpenWith(drv, ordinal)
}

// OpenWith opens a device through an already loaded driver.
func OpenWith(drv *Driver, ordinal int) (*Device, error) {
	if err := drv.Init(); err != nil {
		return nil, fmt.Errorf("initialise CUDA driver %s: %w", drv.Path, err)
	}
	n, err := drv.DeviceCount()
	if err != nil {
		return nil, err
	}
	if ordinal < 0 || ordinal >= n {
		if n == 0 {
			return nil, fmt.Errorf("open cuda:%d: %w: the driver sees none", ordinal, ErrNoDevice)
		}
		return nil, fmt.Errorf("open cuda:%d: the driver sees %d CUDA device(s)", ordinal, n)
	}
	info, err := drv.Info(ordinal)
	if err != nil {
		return nil, fmt.Errorf("open cuda:%d: %w", ordinal, err)
	}
	d := newDevice(drv, info, newPTXSource(os.Getenv))
	if err := drv.check("cuDeviceGet", drv.cuDeviceGet(&d.dev, int32(ordinal))); err != nil {
		return nil, err
	}
	if err := drv.check("cuDevicePrimaryCtxRetain", drv.cuDevicePrimaryCtxRetain(&d.ctx, d.dev)); err != nil {
		return nil, fmt.Errorf("open cuda:%d: %w", ordinal, err)
	}
	err = d.do(func() error {
		if err := drv.check("cuStreamCreate", drv.cuStreamCreate(&d.stream, streamNonBlocking)); err != nil {
			return err
		}
		return drv.check("cuStreamCreate", drv.cuStreamCreate(&d.copyStr, streamNonBlocking))
	})
	if err != nil {
		_ = drv.cuDevicePrimaryCtxRelease(d.dev)
		return nil, fmt.Errorf("open cuda:%d: %w", ordinal, err)
	}
	slog.Debug("gpu: opened device", "ordinal", ordinal, "name", info.Name,
		"sm", fmt.Sprintf("%d.%d", info.ComputeMajor, info.ComputeMinor), "ptx", d.ptx.Describe())
	return d, nil
}

// newDevice builds a Device around a driver; Open fills in the context
// and streams.
func newDevice(drv *Driver, info DeviceInfo, ptx ptxSource) *Device {
	d := &Device{drv: drv, info: info, ptx: ptx, args: new(kernelArgs),
		modules: map[string]uintptr{}, funcs: map[string]uintptr{}, hasPTX: map[string]bool{}}
	d.alloc = newCachingAllocator(deviceRaw{d})
	d.pinned = newCachingAllocator(pinnedRaw{d})
	return d
}

// Info returns the device's name, memory and compute capability.
func (d *Device) Info() DeviceInfo { return d.info }

// Driver returns the loaded driver.
func (d *Device) Driver() *Driver { return d.drv }

// do runs f on a locked OS thread with the device's context current, one
// call at a time per Device.
func (d *Device) do(f func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errors.New("use of closed gpu.Device")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := d.drv.check("cuCtxSetCurrent", d.drv.cuCtxSetCurrent(d.ctx)); err != nil {
		return err
	}
	return f()
}

// Synchronize waits for all work queued on the device's streams.
func (d *Device) Synchronize() error {
	return d.do(func() error {
		if err := d.drv.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.copyStr)); err != nil {
			return err
		}
		return d.drv.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.stream))
	})
}

// MemInfo returns the free and total device memory in bytes.
func (d *Device) MemInfo() (free, total uint64, err error) {
	err = d.do(func() error { return d.drv.check("cuMemGetInfo_v2", d.drv.cuMemGetInfo(&free, &total)) })
	return free, total, err
}

// Close releases the allocator's cached blocks, the loaded modules, the
// streams and the primary context. Blocks still allocated are reported.
func (d *Device) Close() error { return d.close(false) }

// Discard is Close for an owner that drops every device buffer at once (a
// finished training stage): blocks still allocated are freed, not reported.
func (d *Device) Discard() error { return d.close(true) }

func (d *Device) close(discard bool) error {
	var errs []error
	if d.blas != nil {
		errs = append(errs, d.blas.close(d))
	}
	errs = append(errs, d.Synchronize(), d.do(d.dropProfile))
	if d.dnn != nil {
		errs = append(errs, d.do(d.dnn.close))
	}
	errs = append(errs, d.do(func() error {
		serr := d.closeStage()
		if discard {
			return errors.Join(serr, d.alloc.Discard(), d.pinned.Discard())
		}
		return errors.Join(serr, d.alloc.Close(), d.pinned.Close())
	}))
	errs = append(errs, d.do(func() error {
		var errs []error
		for name, m := range d.modules {
			if err := d.drv.check("cuModuleUnload", d.drv.cuModuleUnload(m)); err != nil {
				errs = append(errs, fmt.Errorf("unload module %q: %w", name, err))
			}
		}
		errs = append(errs, d.drv.check("cuStreamDestroy_v2", d.drv.cuStreamDestroy(d.stream)))
		errs = append(errs, d.drv.check("cuStreamDestroy_v2", d.drv.cuStreamDestroy(d.copyStr)))
		return errors.Join(errs...)
	}))
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	errs = append(errs, d.drv.check("cuDevicePrimaryCtxRelease_v2", d.drv.cuDevicePrimaryCtxRelease(d.dev)))
	return errors.Join(errs...)
}

// deviceRaw is the allocator's backing store: cuMemAlloc/cuMemFree. It is
// called with the Device's lock already held by the caller's do.
type deviceRaw struct{ d *Device }

func (r deviceRaw) Alloc(n int) (uintptr, error) {
	var p uintptr
	err := r.d.drv.check("cuMemAlloc_v2", r.d.drv.cuMemAlloc(&p, uint64(n)))
	return p, err
}

func (r deviceRaw) Free(p uintptr) error {
	return r.d.drv.check("cuMemFree_v2", r.d.drv.cuMemFree(p))
}

// pinnedRaw backs the pinned host pool with cuMemAllocHost.
type pinnedRaw struct{ d *Device }

func (r pinnedRaw) Alloc(n int) (uintptr, error) {
	var p uintptr
	err := r.d.drv.check("cuMemAllocHost_v2", r.d.drv.cuMemAllocHost(&p, uint64(n)))
	return p, err
}

func (r pinnedRaw) Free(p uintptr) error {
	return r.d.drv.check("cuMemFreeHost", r.d.drv.cuMemFreeHost(p))
}

// Alloc returns a device block of at least bytes bytes from the cache.
func (d *Device) Alloc(bytes int) (DevPtr, error) {
	var p uintptr
	err := d.do(func() error {
		var err error
		p, err = d.alloc.Alloc(bytes)
		return err
	})
	return DevPtr(p), err
}

// Free returns a block to the cache (no cuMemFree).
func (d *Device) Free(p DevPtr) error { return d.alloc.Free(uintptr(p)) }

// MemStats returns the device allocator's counters.
func (d *Device) MemStats() AllocStats { return d.alloc.Stats() }

// EmptyCache returns every cached device block to the driver.
func (d *Device) EmptyCache() error {
	return d.do(func() error { return d.alloc.Empty() })
}

// PinnedBuffer is page-locked host memory from the device's pinned pool;
// uploads from it run asynchronously on the copy stream.
type PinnedBuffer struct {
	Ptr   uintptr
	Bytes int
}

// Float32s views the buffer as float32s.
func (b PinnedBuffer) Float32s() []float32 {
	return unsafe.Slice((*float32)(cPtr(b.Ptr)), b.Bytes/4)
}

// AllocPinned returns a pinned host buffer of at least bytes bytes.
func (d *Device) AllocPinned(bytes int) (PinnedBuffer, error) {
	var p uintptr
	err := d.do(func() error {
		var err error
		p, err = d.pinned.Alloc(bytes)
		return err
	})
	return PinnedBuffer{Ptr: p, Bytes: bytes}, err
}

// FreePinned returns a pinned buffer to the pool.
func (d *Device) FreePinned(b PinnedBuffer) error { return d.pinned.Free(b.Ptr) }

// PinnedStats returns the pinned pool's counters.
func (d *Device) PinnedStats() AllocStats { return d.pinned.Stats() }
