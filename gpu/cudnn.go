package gpu

import (
	"errors"
	"fmt"
	"os"
)

// cudnnLib is cuDNN's convolution API (cudnn_cnn.h, deprecated in cuDNN 9
// but present and ABI-stable since 8) bound at run time. Handles and
// descriptors are opaque pointers; enums are int32.
type cudnnLib struct {
	Path          string
	getVersion    func() uint64
	errString     func(status int32) uintptr
	create        func(h *uintptr) int32
	destroy       func(h uintptr) int32
	setStream     func(h, stream uintptr) int32
	createTensor  func(d *uintptr) int32
	setTensor4d   func(d uintptr, format, dtype, n, c, h, w int32) int32
	destroyTensor func(d uintptr) int32
	createFilter  func(d *uintptr) int32
	setFilter4d   func(d uintptr, dtype, format, k, c, h, w int32) int32
	destroyFilter func(d uintptr) int32
	createConv    func(d *uintptr) int32
	setConv2d     func(d uintptr, padH, padW, strideH, strideW, dilH, dilW, mode, computeType int32) int32
	setConvMath   func(d uintptr, math int32) int32
	destroyConv   func(d uintptr) int32
	fwdAlgos      func(h, x, w, conv, y uintptr, requested int32, returned *int32, perf *algoPerf) int32
	bwdDataAlgos  func(h, w, dy, conv, dx uintptr, requested int32, returned *int32, perf *algoPerf) int32
	bwdFiltAlgos  func(h, x, dy, conv, dw uintptr, requested int32, returned *int32, perf *algoPerf) int32
	// cudnnFind*: the same ranking, by running each algorithm (nil when
	// the library lacks them).
	fwdFind, bwdDataFind, bwdFiltFind func(h, a, b, conv, c uintptr, requested int32, returned *int32, perf *algoPerf) int32
	fwdWork                           func(h, x, w, conv, y uintptr, algo int32, bytes *uint64) int32
	bwdDataWork                       func(h, w, dy, conv, dx uintptr, algo int32, bytes *uint64) int32
	bwdFiltWork                       func(h, x, dy, conv, dw uintptr, algo int32, bytes *uint64) int32
	fwd                               func(h uintptr, alpha *float32, xd, x, wd, w, conv uintptr, algo int32, work uintptr, workBytes uint64, beta *float32, yd, y uintptr) int32
	bwdData                           func(h uintptr, alpha *float32, wd, w, dyd, dy, conv uintptr, algo int32, work uintptr, workBytes uint64, beta *float32, dxd, dx uintptr) int32
	bwdFilt                           func(h uintptr, alpha *float32, xd, x, dyd, dy, conv uintptr, algo int32, work uintptr, workBytes uint64, beta *float32, dwd, dw uintptr) int32
}

// Enum values from cudnn_graph.h / cudnn_ops.h (the same in cuDNN 8 and 9).
const (
	cudnnDataFloat        = 0 // CUDNN_DATA_FLOAT
	cudnnTensorNCHW       = 0 // CUDNN_TENSOR_NCHW
	cudnnCrossCorrelation = 1 // CUDNN_CROSS_CORRELATION: PyTorch's conv2d
	cudnnDefaultMath      = 0 // CUDNN_DEFAULT_MATH: TF32 tensor cores allowed on Ampere and later
	cudnnFMAMath          = 3 // CUDNN_FMA_MATH: FP32 FMAs, no TF32 tensor cores
	cudnnDeterministic    = 1 // CUDNN_DETERMINISTIC
)

// algoPerf is cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t: 48 bytes
// on x86-64, memory at offset 16.
type algoPerf struct {
	Algo        int32
	Status      int32
	Time        float32
	_           int32
	Memory      uint64
	Determinism int32
	MathType    int32
	Reserved    [3]int32
	_           int32
}

func loadCudnn(getenv func(string) string, dlopen dlopener) (*cudnnLib, error) {
	spec := cudnnSpec(getenv)
	h, path, tried, err := spec.open(getenv, dlopen)
	if err != nil {
		return nil, &LibraryError{Lib: spec.Name, Tried: tried, Err: err}
	}
	l := &cudnnLib{Path: path}
	b := &symbolBinder{lib: h, libName: path}
	b.bind(&l.getVersion, "cudnnGetVersion")
	b.bind(&l.errString, "cudnnGetErrorString")
	b.bind(&l.create, "cudnnCreate")
	b.bind(&l.destroy, "cudnnDestroy")
	b.bind(&l.setStream, "cudnnSetStream")
	b.bind(&l.createTensor, "cudnnCreateTensorDescriptor")
	b.bind(&l.setTensor4d, "cudnnSetTensor4dDescriptor")
	b.bind(&l.destroyTensor, "cudnnDestroyTensorDescriptor")
	b.bind(&l.createFilter, "cudnnCreateFilterDescriptor")
	b.bind(&l.setFilter4d, "cudnnSetFilter4dDescriptor")
	b.bind(&l.destroyFilter, "cudnnDestroyFilterDescriptor")
	b.bind(&l.createConv, "cudnnCreateConvolutionDescriptor")
	b.bind(&l.setConv2d, "cudnnSetConvolution2dDescriptor")
	b.bind(&l.setConvMath, "cudnnSetConvolutionMathType")
	b.bind(&l.destroyConv, "cudnnDestroyConvolutionDescriptor")
	b.bind(&l.fwdAlgos, "cudnnGetConvolutionForwardAlgorithm_v7")
	b.bind(&l.bwdDataAlgos, "cudnnGetConvolutionBackwardDataAlgorithm_v7")
	b.bind(&l.bwdFiltAlgos, "cudnnGetConvolutionBackwardFilterAlgorithm_v7")
	b.optional(&l.fwdFind, "cudnnFindConvolutionForwardAlgorithm")
	b.optional(&l.bwdDataFind, "cudnnFindConvolutionBackwardDataAlgorithm")
	b.optional(&l.bwdFiltFind, "cudnnFindConvolutionBackwardFilterAlgorithm")
	b.bind(&l.fwdWork, "cudnnGetConvolutionForwardWorkspaceSize")
	b.bind(&l.bwdDataWork, "cudnnGetConvolutionBackwardDataWorkspaceSize")
	b.bind(&l.bwdFiltWork, "cudnnGetConvolutionBackwardFilterWorkspaceSize")
	b.bind(&l.fwd, "cudnnConvolutionForward")
	b.bind(&l.bwdData, "cudnnConvolutionBackwardData")
	b.bind(&l.bwdFilt, "cudnnConvolutionBackwardFilter")
	if b.err != nil {
		return nil, &LibraryError{Lib: spec.Name, Tried: []string{path}, Err: b.err}
	}
	return l, nil
}

func (l *cudnnLib) check(call string, status int32) error {
	if status == 0 {
		return nil
	}
	msg := ""
	if p := l.errString(status); p != 0 {
		msg = goString((*byte)(cPtr(p)))
	}
	return &DNNError{Call: call, Status: status, Msg: msg}
}

// DNNError is a failed cuDNN call (cudnnStatus_t, whose values differ
// between cuDNN 8 and 9) with cuDNN's own message.
type DNNError struct {
	Call   string
	Status int32
	Msg    string
}

func (e *DNNError) Error() string {
	return fmt.Sprintf("%s: cudnn status %d: %s", e.Call, e.Status, e.Msg)
}

// DNN is a cuDNN handle bound to one Device's compute stream, with the
// convolution plans made so far.
type DNN struct {
	lib     *cudnnLib
	h       uintptr
	Version int
	// TF32 lets convolutions use TF32 tensor cores, as PyTorch does by
	// default (torch.backends.cudnn.allow_tf32): Device.SetConvTF32 sets
	// it (train.precision), else DETFLOW_TF32=1.
	TF32 bool
	// Deterministic prefers cuDNN's deterministic algorithms, slower for
	// some backward shapes; DETFLOW_CUDNN_DETERMINISTIC=1 sets it.
	Deterministic bool
	// Benchmark ranks each new shape's algorithms by running them
	// (cudnnFind*, as torch.backends.cudnn.benchmark) instead of by
	// cuDNN's heuristics: the fastest pick for fixed input sizes, a few
	// hundred milliseconds per new shape. DETFLOW_CUDNN_BENCHMARK=1 sets
	// it where the library has the Find functions.
	Benchmark bool
	plans     map[convKey]*convPlan
}

// DNN returns the device's cuDNN handle, creating it on first use. When
// cuDNN cannot be loaded (a *LibraryError) or is switched off with
// DETFLOW_CUDNN=0, the error is kept and returned on every later call, so
// callers fall back to their own kernels without retrying the search.
func (d *Device) DNN() (*DNN, error) {
	var out *DNN
	err := d.do(func() error {
		if d.dnn != nil || d.dnnErr != nil {
			out = d.dnn
			return d.dnnErr
		}
		d.dnn, d.dnnErr = openDNN(d, os.Getenv, systemDlopen)
		out = d.dnn
		return d.dnnErr
	})
	return out, err
}

// ErrDNNOff is DNN's error when DETFLOW_CUDNN=0 switches cuDNN off.
var ErrDNNOff = errors.New("cuDNN switched off (DETFLOW_CUDNN=0)")

// openDNN loads cuDNN and creates a handle on d's compute stream; called
// with d's lock held.
func openDNN(d *Device, getenv func(string) string, dlopen dlopener) (*DNN, error) {
	if getenv("DETFLOW_CUDNN") == "0" {
		return nil, ErrDNNOff
	}
	lib, err := loadCudnn(getenv, dlopen)
	if err != nil {
		return nil, err
	}
	dn, err := newDNN(d, lib)
	if dn != nil {
		dn.TF32 = getenv("DETFLOW_TF32") == "1"
		if d.convTF32 != nil {
			dn.TF32 = *d.convTF32
		}
		dn.Deterministic = getenv("DETFLOW_CUDNN_DETERMINISTIC") == "1"
		dn.Benchmark = getenv("DETFLOW_CUDNN_BENCHMARK") == "1" && lib.fwdFind != nil && lib.bwdDataFind != nil && lib.bwdFiltFind != nil
	}
	return dn, err
}

func newDNN(d *Device, lib *cudnnLib) (*DNN, error) {
	dn := &DNN{lib: lib, Version: int(lib.getVersion()), plans: map[convKey]*convPlan{}}
	if err := lib.check("cudnnCreate", lib.create(&dn.h)); err != nil {
		return nil, err
	}
	if err := lib.check("cudnnSetStream", lib.setStream(dn.h, d.stream)); err != nil {
		return nil, errors.Join(err, lib.check("cudnnDestroy", lib.destroy(dn.h)))
	}
	return dn, nil
}

// Path returns the cuDNN library file in use.
func (dn *DNN) Path() string { return dn.lib.Path }

// String names the library and version, e.g. "cuDNN 9.6.0".
func (dn *DNN) String() string { return "cuDNN " + cudnnVersion(dn.Version) }

// SetConvTF32 says whether cuDNN convolutions may use TF32 tensor cores
// (train.precision tf32, fp16 or bf16) or compute in FP32 (fp32). It wins
// over DETFLOW_TF32, which decides for devices it is never called on.
// Plans made under the other math type are dropped, so their shapes are
// ranked again under the new one.
func (d *Device) SetConvTF32(on bool) error {
	return d.do(func() error {
		d.convTF32 = &on
		if d.dnn == nil || d.dnn.TF32 == on {
			return nil
		}
		d.dnn.TF32 = on
		return d.dnn.dropPlans()
	})
}

// dropPlans destroys every plan's descriptors; called with the Device's
// lock held.
func (dn *DNN) dropPlans() error {
	var errs []error
	for k, p := range dn.plans {
		errs = append(errs, p.destroy(dn.lib))
		delete(dn.plans, k)
	}
	return errors.Join(errs...)
}

// close destroys the plans' descriptors and the handle; called with the
// Device's lock held.
func (dn *DNN) close() error {
	errs := []error{dn.dropPlans()}
	if dn.h != 0 {
		errs = append(errs, dn.lib.check("cudnnDestroy", dn.lib.destroy(dn.h)))
		dn.h = 0
	}
	return errors.Join(errs...)
}
