package gpu

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoDriver matches (errors.Is) every *NoDriverError.
var ErrNoDriver = errors.New("no NVIDIA driver found")

// NoDriverError says that libcuda could not be loaded. Its text is made to
// follow the --devices value in the CLI:
//
//	--devices cuda:0: no NVIDIA driver found (libcuda.so.1)
type NoDriverError struct {
	Soname string   // the library looked for, e.g. "libcuda.so.1"
	Tried  []string // every path or soname passed to dlopen, in order
	Err    error    // the last dlopen error
}

func (e *NoDriverError) Error() string {
	return fmt.Sprintf("no NVIDIA driver found (%s)", e.Soname)
}

// Detail lists what was tried and why it failed, for -v logs.
func (e *NoDriverError) Detail() string {
	return fmt.Sprintf("tried %s: %v", strings.Join(e.Tried, ", "), e.Err)
}

// Is makes errors.Is(err, ErrNoDriver) true.
func (e *NoDriverError) Is(target error) bool { return target == ErrNoDriver }

// Unwrap returns the last dlopen error.
func (e *NoDriverError) Unwrap() error { return e.Err }

// LibraryError says that an optional library (cuBLAS, NCCL) or one of its
// symbols could not be loaded.
type LibraryError struct {
	Lib   string   // e.g. "cuBLAS"
	Tried []string // paths or sonames tried
	Err   error
}

func (e *LibraryError) Error() string {
	tried := e.Tried
	if len(tried) > 4 {
		tried = append(tried[:4:4], fmt.Sprintf("and %d more", len(e.Tried)-4))
	}
	return fmt.Sprintf("load %s (tried %s): %v", e.Lib, strings.Join(tried, ", "), e.Err)
}

func (e *LibraryError) Unwrap() error { return e.Err }

// Result is a CUresult (driver API status code).
type Result int32

// Driver API status codes that the package checks by value.
const (
	resultSuccess      Result = 0
	resultOutOfMemory  Result = 2
	resultNoDevice     Result = 100
	resultInvalidImage Result = 200
	resultNotFound     Result = 500
	resultNotReady     Result = 600
)

// CUDAError is a failed driver API call; it carries the CUresult with its
// name and description from cuGetErrorName/cuGetErrorString.
type CUDAError struct {
	Call string // the driver function, e.g. "cuMemAlloc_v2"
	Code Result
	Name string // e.g. "CUDA_ERROR_OUT_OF_MEMORY"
	Desc string // e.g. "out of memory"
	Log  string // JIT error log, for module loads
}

func (e *CUDAError) Error() string {
	s := fmt.Sprintf("%s: %s (%d): %s", e.Call, e.Name, int32(e.Code), e.Desc)
	if e.Log != "" {
		s += "\n" + e.Log
	}
	return s
}

// ErrOutOfMemory matches (errors.Is) a CUDA_ERROR_OUT_OF_MEMORY CUDAError.
var ErrOutOfMemory = errors.New("out of device memory")

// ErrNoDevice matches (errors.Is) a driver that loads but sees no CUDA
// device (CUDA_ERROR_NO_DEVICE): a machine with the NVIDIA libraries
// installed and no GPU, which tests treat like a machine with no driver.
var ErrNoDevice = errors.New("no CUDA device")

// Unavailable reports whether err (from Open) means this machine has no
// usable GPU: no driver, or a driver that sees no device. Tests skip there;
// any other open error is a broken GPU setup and fails them.
func Unavailable(err error) bool {
	return errors.Is(err, ErrNoDriver) || errors.Is(err, ErrNoDevice)
}

// Is makes errors.Is(err, ErrOutOfMemory) true for out-of-memory results
// and errors.Is(err, ErrNoDevice) for no-device ones.
func (e *CUDAError) Is(target error) bool {
	return (target == ErrOutOfMemory && e.Code == resultOutOfMemory) ||
		(target == ErrNoDevice && e.Code == resultNoDevice)
}

// BLASError is a failed cuBLAS call (cublasStatus_t).
type BLASError struct {
	Call   string
	Status int32
}

func (e *BLASError) Error() string {
	return fmt.Sprintf("%s: %s (%d)", e.Call, blasStatusName(e.Status), e.Status)
}

// blasStatusName names the cublasStatus_t values from cublas_api.h.
func blasStatusName(s int32) string {
	switch s {
	case 0:
		return "CUBLAS_STATUS_SUCCESS"
	case 1:
		return "CUBLAS_STATUS_NOT_INITIALIZED"
	case 3:
		return "CUBLAS_STATUS_ALLOC_FAILED"
	case 7:
		return "CUBLAS_STATUS_INVALID_VALUE"
	case 8:
		return "CUBLAS_STATUS_ARCH_MISMATCH"
	case 11:
		return "CUBLAS_STATUS_MAPPING_ERROR"
	case 13:
		return "CUBLAS_STATUS_EXECUTION_FAILED"
	case 14:
		return "CUBLAS_STATUS_INTERNAL_ERROR"
	case 15:
		return "CUBLAS_STATUS_NOT_SUPPORTED"
	case 16:
		return "CUBLAS_STATUS_LICENSE_ERROR"
	}
	return "CUBLAS_STATUS_UNKNOWN"
}

// NCCLError is a failed NCCL call (ncclResult_t) with NCCL's own message.
type NCCLError struct {
	Call   string
	Status int32
	Msg    string
}

func (e *NCCLError) Error() string {
	return fmt.Sprintf("%s: nccl result %d: %s", e.Call, e.Status, e.Msg)
}
