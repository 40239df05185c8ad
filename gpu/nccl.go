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
	reduce     func(send, recv uintptr, count uint64, dtype, op, root int32, comm, stream uintptr) int32
	broadcast  func(send, recv uintptr, count uint64, dtype, root int32, comm, stream uintptr) int32
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
	b.bind(&l.reduce, "ncclReduce")
	b.bind(&l.broadcast, "ncclBroadcast")
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
// devices in place, queued on each device's compute stream.
func (c *NCCL) AllReduceSum(bufs []DevPtr, n int) error {
	if len(bufs) != len(c.devs) {
		return fmt.Errorf("nccl all-reduce: %d buffers for %d ranks", len(bufs), len(c.devs))
	}
	return c.group(func(rank int) error {
		return c.lib.check("ncclAllReduce", c.lib.allReduce(uintptr(bufs[rank]), uintptr(bufs[rank]), uint64(n), ncclFloat32, ncclSum, c.comms[rank], c.devs[rank].stream))
	})
}

// ReduceSum sums rows[t][r] (rank r's buffer of counts[t] floats) over the
// ranks into rows[t][0], in place, for every t: one NCCL group, so all the
// tensors go in one launch per rank. Queued on each device's compute
// stream, behind the kernels that produced the buffers.
func (c *NCCL) ReduceSum(rows [][]DevPtr, counts []int) error {
	if err := c.checkRows("reduce", rows, counts); err != nil {
		return err
	}
	return c.group(func(rank int) error {
		for t, row := range rows {
			p := uintptr(row[rank])
			if r := c.lib.reduce(p, p, uint64(counts[t]), ncclFloat32, ncclSum, 0, c.comms[rank], c.devs[rank].stream); r != 0 {
				return fmt.Errorf("tensor %d: %w", t, c.lib.check("ncclReduce", r))
			}
		}
		return nil
	})
}

// Broadcast copies rows[t][0] into rows[t][r] for every t and rank r > 0,
// in one NCCL group.
func (c *NCCL) Broadcast(rows [][]DevPtr, counts []int) error {
	if err := c.checkRows("broadcast", rows, counts); err != nil {
		return err
	}
	return c.group(func(rank int) error {
		for t, row := range rows {
			if r := c.lib.broadcast(uintptr(row[0]), uintptr(row[rank]), uint64(counts[t]), ncclFloat32, 0, c.comms[rank], c.devs[rank].stream); r != 0 {
				return fmt.Errorf("tensor %d: %w", t, c.lib.check("ncclBroadcast", r))
			}
		}
		return nil
	})
}

func (c *NCCL) checkRows(op string, rows [][]DevPtr, counts []int) error {
	if len(rows) != len(counts) {
		return fmt.Errorf("nccl %s: %d rows, %d counts", op, len(rows), len(counts))
	}
	for t, row := range rows {
		if len(row) != len(c.devs) {
			return fmt.Errorf("nccl %s: tensor %d has %d buffers for %d ranks", op, t, len(row), len(c.devs))
		}
	}
	return nil
}

// group runs each rank's calls between ncclGroupStart and ncclGroupEnd,
// with the rank's context current. NCCL groups are per thread, so the
// whole group runs on one locked OS thread.
func (c *NCCL) group(each func(rank int) error) error {
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
			err = each(i)
		}
		d.mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("rank %d (cuda:%d): %w", i, d.info.Ordinal, err))
		}
	}
	errs = append(errs, c.lib.check("ncclGroupEnd", c.lib.groupEnd()))
	return errors.Join(errs...)
}

// String names the library, e.g. "NCCL 2.27.3".
func (c *NCCL) String() string { return "NCCL " + ncclVersion(c.Version) }

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
