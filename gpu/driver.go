package gpu

import (
	"fmt"
	"os"
	"unsafe"
)

// Driver is the CUDA driver API (libcuda.so.1) bound at run time. Every
// function returns a CUresult; call them through Driver.check so failures
// become *CUDAError values with the result's name and description.
//
// The symbols are the ones cuda.h maps its names to (e.g. cuMemAlloc ->
// cuMemAlloc_v2) and that kept their signature in CUDA 13; the primary
// context is used instead of cuCtxCreate, whose signature changed in 13.0.
type Driver struct {
	Path string // the library file that was loaded

	cuInit                    func(flags uint32) Result
	cuDriverGetVersion        func(v *int32) Result
	cuDeviceGetCount          func(n *int32) Result
	cuDeviceGet               func(dev *int32, ordinal int32) Result
	cuDeviceGetName           func(name *byte, n int32, dev int32) Result
	cuDeviceTotalMem          func(bytes *uint64, dev int32) Result
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) Result
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) Result
	cuDevicePrimaryCtxRelease func(dev int32) Result
	cuCtxSetCurrent           func(ctx uintptr) Result
	cuCtxSynchronize          func() Result
	cuMemAlloc                func(ptr *uintptr, bytes uint64) Result
	cuMemFree                 func(ptr uintptr) Result
	cuMemcpyHtoD              func(dst uintptr, src unsafe.Pointer, bytes uint64) Result
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uintptr, bytes uint64) Result
	cuMemcpyDtoD              func(dst, src uintptr, bytes uint64) Result
	cuMemcpyHtoDAsync         func(dst uintptr, src unsafe.Pointer, bytes uint64, stream uintptr) Result
	cuMemcpyDtoHAsync         func(dst unsafe.Pointer, src uintptr, bytes uint64, stream uintptr) Result
	cuMemcpyDtoDAsync         func(dst, src uintptr, bytes uint64, stream uintptr) Result
	cuMemsetD32               func(dst uintptr, v uint32, n uint64) Result
	cuMemsetD32Async          func(dst uintptr, v uint32, n uint64, stream uintptr) Result
	cuMemAllocHost            func(p *uintptr, bytes uint64) Result
	cuMemFreeHost             func(p uintptr) Result
	cuMemGetInfo              func(free, total *uint64) Result
	cuModuleLoadData          func(mod *uintptr, image unsafe.Pointer) Result
	cuModuleLoadDataEx        func(mod *uintptr, image unsafe.Pointer, n uint32, opts *int32, vals *uintptr) Result
	cuModuleUnload            func(mod uintptr) Result
	cuModuleGetFunction       func(fn *uintptr, mod uintptr, name *byte) Result
	cuLaunchKernel            func(f uintptr, grid, block dim3, shared uint32, stream, params uintptr) Result
	cuStreamCreate            func(s *uintptr, flags uint32) Result
	cuStreamDestroy           func(s uintptr) Result
	cuStreamSynchronize       func(s uintptr) Result
	cuStreamWaitEvent         func(s, ev uintptr, flags uint32) Result
	cuEventCreate             func(ev *uintptr, flags uint32) Result
	cuEventDestroy            func(ev uintptr) Result
	cuEventRecord             func(ev, stream uintptr) Result
	cuEventSynchronize        func(ev uintptr) Result
	cuEventQuery              func(ev uintptr) Result
	cuEventElapsedTime        func(ms *float32, start, end uintptr) Result
	cuGetErrorName            func(r Result, s **byte) Result
	cuGetErrorString          func(r Result, s **byte) Result
	cuDeviceCanAccessPeer     func(can *int32, dev, peer int32) Result
	cuCtxEnablePeerAccess     func(peer uintptr, flags uint32) Result
	cuMemcpyPeer              func(dst, dstCtx, src, srcCtx uintptr, bytes uint64) Result
	cuMemcpyPeerAsync         func(dst, dstCtx, src, srcCtx uintptr, bytes uint64, stream uintptr) Result
}

// LoadDriver loads libcuda and binds the driver API. Without a driver it
// returns a *NoDriverError. It does not call cuInit; Init does.
func LoadDriver() (*Driver, error) {
	return loadDriver(os.Getenv, systemDlopen)
}

func loadDriver(getenv func(string) string, dlopen dlopener) (*Driver, error) {
	spec := driverSpec(getenv)
	h, path, tried, err := spec.open(getenv, dlopen)
	if err != nil {
		soname := spec.Sonames[0]
		if v := getenv(spec.Env); v != "" {
			soname = spec.Env + "=" + v
		}
		return nil, &NoDriverError{Soname: soname, Tried: tried, Err: err}
	}
	d := &Driver{Path: path}
	if err := d.bindAll(h); err != nil {
		return nil, fmt.Errorf("bind driver API in %s: %w", path, err)
	}
	return d, nil
}

func (d *Driver) bindAll(h uintptr) error {
	b := &symbolBinder{lib: h, libName: d.Path}
	b.bind(&d.cuInit, "cuInit")
	b.bind(&d.cuDriverGetVersion, "cuDriverGetVersion")
	b.bind(&d.cuDeviceGetCount, "cuDeviceGetCount")
	b.bind(&d.cuDeviceGet, "cuDeviceGet")
	b.bind(&d.cuDeviceGetName, "cuDeviceGetName")
	b.bind(&d.cuDeviceTotalMem, "cuDeviceTotalMem_v2")
	b.bind(&d.cuDeviceGetAttribute, "cuDeviceGetAttribute")
	b.bind(&d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
	b.bind(&d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease")
	b.bind(&d.cuCtxSetCurrent, "cuCtxSetCurrent")
	b.bind(&d.cuCtxSynchronize, "cuCtxSynchronize")
	b.bind(&d.cuMemAlloc, "cuMemAlloc_v2")
	b.bind(&d.cuMemFree, "cuMemFree_v2")
	b.bind(&d.cuMemcpyHtoD, "cuMemcpyHtoD_v2")
	b.bind(&d.cuMemcpyDtoH, "cuMemcpyDtoH_v2")
	b.bind(&d.cuMemcpyDtoD, "cuMemcpyDtoD_v2")
	b.bind(&d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2")
	b.bind(&d.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2")
	b.bind(&d.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2")
	b.bind(&d.cuMemsetD32, "cuMemsetD32_v2")
	b.bind(&d.cuMemsetD32Async, "cuMemsetD32Async")
	b.bind(&d.cuMemAllocHost, "cuMemAllocHost_v2")
	b.bind(&d.cuMemFreeHost, "cuMemFreeHost")
	b.bind(&d.cuMemGetInfo, "cuMemGetInfo_v2")
	b.bind(&d.cuModuleLoadData, "cuModuleLoadData")
	b.optional(&d.cuModuleLoadDataEx, "cuModuleLoadDataEx")
	b.bind(&d.cuModuleUnload, "cuModuleUnload")
	b.bind(&d.cuModuleGetFunction, "cuModuleGetFunction")
	if addr := b.lookup("cuLaunchKernel"); addr != 0 {
		d.cuLaunchKernel = launchKernelAt(addr)
	}
	b.bind(&d.cuStreamCreate, "cuStreamCreate")
	b.bind(&d.cuStreamDestroy, "cuStreamDestroy_v2", "cuStreamDestroy")
	b.bind(&d.cuStreamSynchronize, "cuStreamSynchronize")
	b.bind(&d.cuStreamWaitEvent, "cuStreamWaitEvent")
	b.bind(&d.cuEventCreate, "cuEventCreate")
	b.bind(&d.cuEventDestroy, "cuEventDestroy_v2", "cuEventDestroy")
	b.bind(&d.cuEventRecord, "cuEventRecord")
	b.bind(&d.cuEventSynchronize, "cuEventSynchronize")
	b.bind(&d.cuEventQuery, "cuEventQuery")
	// CUDA 12.8 added _v2 with relaxed checks; both take (float*, start, end).
	b.bind(&d.cuEventElapsedTime, "cuEventElapsedTime_v2", "cuEventElapsedTime")
	b.bind(&d.cuGetErrorName, "cuGetErrorName")
	b.bind(&d.cuGetErrorString, "cuGetErrorString")
	b.bind(&d.cuDeviceCanAccessPeer, "cuDeviceCanAccessPeer")
	b.bind(&d.cuCtxEnablePeerAccess, "cuCtxEnablePeerAccess")
	b.bind(&d.cuMemcpyPeer, "cuMemcpyPeer")
	b.bind(&d.cuMemcpyPeerAsync, "cuMemcpyPeerAsync")
	return b.err
}

// check turns a CUresult into nil or a *CUDAError naming the call.
func (d *Driver) check(call string, r Result) error {
	if r == resultSuccess {
		return nil
	}
	e := &CUDAError{Call: call, Code: r, Name: "CUDA_ERROR_UNKNOWN", Desc: "unknown error"}
	var s *byte
	if d.cuGetErrorName != nil && d.cuGetErrorName(r, &s) == resultSuccess && s != nil {
		e.Name = goString(s)
	}
	s = nil
	if d.cuGetErrorString != nil && d.cuGetErrorString(r, &s) == resultSuccess && s != nil {
		e.Desc = goString(s)
	}
	return e
}

// goString copies a NUL-terminated C string owned by the driver.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

// Init calls cuInit(0).
func (d *Driver) Init() error { return d.check("cuInit", d.cuInit(0)) }

// Version returns the driver's CUDA version as major*1000 + minor*10
// (13000 for CUDA 13.0).
func (d *Driver) Version() (int, error) {
	var v int32
	if err := d.check("cuDriverGetVersion", d.cuDriverGetVersion(&v)); err != nil {
		return 0, err
	}
	return int(v), nil
}

// DeviceCount returns the number of CUDA devices (after Init).
func (d *Driver) DeviceCount() (int, error) {
	var n int32
	if err := d.check("cuDeviceGetCount", d.cuDeviceGetCount(&n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

// DeviceInfo describes one device.
type DeviceInfo struct {
	Ordinal      int
	Name         string
	TotalMem     uint64
	ComputeMajor int
	ComputeMinor int
	SMs          int
}

// CUdevice_attribute values from cuda.h.
const (
	attrMultiprocessorCount   = 16
	attrComputeCapabilityMajr = 75
	attrComputeCapabilityMinr = 76
)

// Info returns the name, memory and compute capability of a device.
func (d *Driver) Info(ordinal int) (DeviceInfo, error) {
	var dev int32
	if err := d.check("cuDeviceGet", d.cuDeviceGet(&dev, int32(ordinal))); err != nil {
		return DeviceInfo{}, err
	}
	info := DeviceInfo{Ordinal: ordinal}
	name := make([]byte, 256)
	if err := d.check("cuDeviceGetName", d.cuDeviceGetName(&name[0], int32(len(name)), dev)); err != nil {
		return DeviceInfo{}, err
	}
	info.Name = goString(&name[0])
	if err := d.check("cuDeviceTotalMem_v2", d.cuDeviceTotalMem(&info.TotalMem, dev)); err != nil {
		return DeviceInfo{}, err
	}
	var v int32
	for _, a := range []struct {
		attr int32
		dst  *int
	}{{attrComputeCapabilityMajr, &info.ComputeMajor}, {attrComputeCapabilityMinr, &info.ComputeMinor}, {attrMultiprocessorCount, &info.SMs}} {
		if err := d.check("cuDeviceGetAttribute", d.cuDeviceGetAttribute(&v, a.attr, dev)); err != nil {
			return DeviceInfo{}, err
		}
		*a.dst = int(v)
	}
	return info, nil
}

// launchKernelAt wraps cuLaunchKernel at addr. It goes through syscall, not
// purego.RegisterFunc, to keep the hot path free of reflection: all 11
// arguments are integers or pointers; kernelParams is the packed array and
// extra is NULL.
func launchKernelAt(addr uintptr) func(f uintptr, grid, block dim3, shared uint32, stream, params uintptr) Result {
	return func(f uintptr, grid, block dim3, shared uint32, stream, params uintptr) Result {
		r := syscall(addr, f,
			uintptr(grid.X), uintptr(grid.Y), uintptr(grid.Z),
			uintptr(block.X), uintptr(block.Y), uintptr(block.Z),
			uintptr(shared), stream, params, 0)
		return Result(int32(r))
	}
}
