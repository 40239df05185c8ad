package gpu

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// ncclLib is NCCL bound at run time.
type ncclLib struct {
	Path       string
	getVersion func(v *int32) int32
	initAll    func(comms *uintptr, ndev int32, devlist *int32) int32
	destroy    func(comm uintptr) int32
	allReduce  func(send, recv uintptr, count uint64, dtype, op int32, comm, stream uintptr) int32
	groupStart func() int32
	groupEnd   func() int32
	errString  func(r int32) uintptr
}

// ncclDataType_t and ncclRedOp_t values from nccl.h.
const (
	ncclFloat32 = 7
	ncclSum     = 0
)

func loadNCCL(getenv func(string) string, dlopen dlopener) (*ncclLib, error) {
	spec := ncclSpec(getenv)
	h, path, tried, err := spec.open(getenv, dlopen)
	if err != nil {
		return nil, &LibraryError{Lib: spec.Name, Tried: tried, Err: err}
	}
	l := &ncclLib{Path: path}
	b := &symbolBinder{lib: h, libName: path}
	b.bind(&l.getVersion, "ncclGetVersion")
	b.bind(&l.initAll, "ncclCommInitAll")
	b.bind(&l.destroy, "ncclCommDestroy")
	b.bind(&l.allReduce, "ncclAllReduce")
	b.bind(&l.groupStart, "ncclGroupStart")
	b.bind(&l.groupEnd, "ncclGroupEnd")
	b.bind(&l.errString, "ncclGetErrorString")
	if b.err != nil {
		return nil, &LibraryError{Lib: spec.Name, Tried: []string{path}, Err: b.err}
	}
	return l, nil
}

func (l *ncclLib) check(call string, r int32) error {
	if r == 0 {
		return nil
	}
	msg := "unknown"
	if p := l.errString(r); p != 0 {
		msg = goString((*byte)(cPtr(p)))
	}
	return &NCCLError{Call: call, Status: r, Msg: msg}
}

// NCCL is a single-process NCCL communicator over Devices on distinct GPUs
// (ncclCommInitAll), used for the gradient all-reduce when NCCL is present.
// Replicas sharing a GPU use AllReduceSum instead: NCCL rejects duplicate
// devices in one communicator.
type NCCL struct {
	lib     *ncclLib
	devs    []*Device
	comms   []uintptr
	Version int
}

// NewNCCL loads NCCL (a *LibraryError when absent) and creates one
// communicator rank per device.
func NewNCCL(devs []*Device) (*NCCL, error) {
	seen := map[int]bool{}
	list := make([]int32, len(devs))
	for i, d := range devs {
		o := d.info.Ordinal
		if seen[o] {
			return nil, fmt.Errorf("nccl: cuda:%d appears twice; replicas on one GPU use the peer-copy all-reduce", o)
		}
		seen[o] = true
		list[i] = int32(o)
	}
	if len(devs) == 0 {
		return nil, errors.New("nccl: no devices")
	}
	lib, err := loadNCCL(os.Getenv, systemDlopen)
	if err != nil {
		return nil, err
	}
	c := &NCCL{lib: lib, devs: devs, comms: make([]uintptr, len(devs))}
	var v int32
	if err := lib.check("ncclGetVersion", lib.getVersion(&v)); err != nil {
		return nil, err
	}
	c.Version = int(v)
	if err := lib.check("ncclCommInitAll", lib.initAll(&c.comms[0], int32(len(devs)), &list[0])); err != nil {
		return nil, err
	}
	return c, nil
}

// Path returns the NCCL library file in use.
func (c *NCCL) Path() string { return c.lib.Path }

// AllReduceSum sums the n-float buffers bufs[i] on the communicator's
// devices in place, queued on each device's compute stream. NCCL groups
// are per thread, so the whole group runs on one locked OS thread.
func (c *NCCL) AllReduceSum(bufs []DevPtr, n int) error {
	if len(bufs) != len(c.devs) {
		return fmt.Errorf("nccl all-reduce: %d buffers for %d ranks", len(bufs), len(c.devs))
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := c.lib.check("ncclGroupStart", c.lib.groupStart()); err != nil {
		return err
	}
	var errs []error
	for i, d := range c.devs {
		d.mu.Lock()
		err := d.drv.check("cuCtxSetCurrent", d.drv.cuCtxSetCurrent(d.ctx))
		if err == nil {
			err = c.lib.check("ncclAllReduce", c.lib.allReduce(uintptr(bufs[i]), uintptr(bufs[i]), uint64(n), ncclFloat32, ncclSum, c.comms[i], d.stream))
		}
		d.mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("rank %d: %w", i, err))
		}
	}
	errs = append(errs, c.lib.check("ncclGroupEnd", c.lib.groupEnd()))
	return errors.Join(errs...)
}

// Close destroys the communicators.
func (c *NCCL) Close() error {
	var errs []error
	for i, cm := range c.comms {
		if cm != 0 {
			errs = append(errs, c.lib.check("ncclCommDestroy", c.lib.destroy(cm)))
			c.comms[i] = 0
		}
	}
	return errors.Join(errs...)
}
