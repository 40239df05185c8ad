package gpu

import (
	"errors"
	"fmt"
	"unsafe"
)

// CUjit_option values from cuda.h used to capture the JIT error log.
const (
	jitErrorLogBuffer     = 5
	jitErrorLogBufferSize = 6
)

// function returns a kernel, loading its module on first use. Call inside do.
func (d *Device) function(kernel string) (uintptr, error) {
	if f, ok := d.funcs[kernel]; ok {
		return f, nil
	}
	module := moduleOf(kernel)
	if module == "" {
		return 0, fmt.Errorf("kernel %q is in no module of the kernel table", kernel)
	}
	mod, ok := d.modules[module]
	if !ok {
		var err error
		if mod, err = d.loadModule(module); err != nil {
			return 0, err
		}
		d.modules[module] = mod
	}
	name := append([]byte(kernel), 0)
	var f uintptr
	if err := d.drv.check("cuModuleGetFunction", d.drv.cuModuleGetFunction(&f, mod, &name[0])); err != nil {
		return 0, fmt.Errorf("get kernel %q from module %q (%s): %w", kernel, module, d.ptx.Describe(), err)
	}
	d.funcs[kernel] = f
	return f, nil
}

// loadModule JIT-compiles a module's PTX for this device, returning the
// JIT error log with any failure.
func (d *Device) loadModule(module string) (uintptr, error) {
	ptx, err := d.ptx.Load(module)
	if err != nil {
		return 0, err
	}
	var mod uintptr
	if d.drv.cuModuleLoadDataEx == nil {
		if err := d.drv.check("cuModuleLoadData", d.drv.cuModuleLoadData(&mod, unsafe.Pointer(&ptx[0]))); err != nil {
			return 0, fmt.Errorf("load module %q (%s): %w", module, d.ptx.Describe(), err)
		}
		return mod, nil
	}
	logBuf := make([]byte, 8192)
	opts := []int32{jitErrorLogBuffer, jitErrorLogBufferSize}
	vals := []uintptr{uintptr(unsafe.Pointer(&logBuf[0])), uintptr(len(logBuf))}
	r := d.drv.cuModuleLoadDataEx(&mod, unsafe.Pointer(&ptx[0]), uint32(len(opts)), &opts[0], &vals[0])
	if err := d.drv.check("cuModuleLoadDataEx", r); err != nil {
		if ce, ok := err.(*CUDAError); ok {
			ce.Log = goString(&logBuf[0])
		}
		return 0, fmt.Errorf("load module %q (%s): %w", module, d.ptx.Describe(), err)
	}
	return mod, nil
}

// launch queues a kernel on the compute stream. Call inside do.
func (d *Device) launch(kernel string, grid, block dim3, shared uint32, args ...any) error {
	f, err := d.function(kernel)
	if err != nil {
		return err
	}
	if err := d.args.pack(args...); err != nil {
		return fmt.Errorf("launch %s: %w", kernel, err)
	}
	ev := d.profBegin()
	r := d.drv.cuLaunchKernel(f, grid, block, shared, d.stream, d.args.params())
	d.profEnd(kernel, ev)
	if err := d.drv.check("cuLaunchKernel", r); err != nil {
		return fmt.Errorf("launch %s grid %v block %v: %w", kernel, grid, block, err)
	}
	return nil
}

// Launch queues one kernel on the compute stream (an escape hatch for
// callers and tests; the typed launchers in ops_*.go are the normal way).
func (d *Device) Launch(kernel string, grid, block [3]uint32, shared uint32, args ...any) error {
	return d.do(func() error {
		return d.launch(kernel, dim3{grid[0], grid[1], grid[2]}, dim3{block[0], block[1], block[2]}, shared, args...)
	})
}

// The modules whose PTX a build may lack (added after the last PTX commit):
// callers ask HasModule before using their launchers.
const (
	ModuleLayout  = modLayout  // StridedCopy, BroadcastBinary, ReduceSum
	ModuleIndex   = modIndex   // IndexSelect, IndexAdd, GatherRows, ScatterAddRows
	ModuleSoftmax = modSoftmax // SoftmaxRows, SoftmaxRowsBwd
	ModuleAvgPool = modAvgPool // AvgPoolFwd/Bwd, AdaptiveAvgPoolFwd/Bwd
)

// HasModule reports whether the PTX of a kernel module is available (in
// DETFLOW_PTX_DIR when set, else embedded), so callers can keep a host
// path for builds whose PTX predates the module. The PTX is read once per
// Device and the answer cached; only a missing file (ErrPTXMissing) says
// false, so a broken PTX still fails loudly at its first launch.
func (d *Device) HasModule(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if has, ok := d.hasPTX[name]; ok {
		return has
	}
	known := false
	for _, m := range kernelModules() {
		known = known || m.Name == name
	}
	has := false
	if known {
		_, err := d.ptx.Load(name)
		has = !errors.Is(err, ErrPTXMissing)
	}
	d.hasPTX[name] = has
	return has
}
