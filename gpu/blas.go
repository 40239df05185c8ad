package gpu

import (
	"fmt"
	"os"
)

// cublasLib is cuBLAS bound at run time.
type cublasLib struct {
	Path        string
	create      func(h *uintptr) int32
	destroy     func(h uintptr) int32
	setStream   func(h, stream uintptr) int32
	setMathMode func(h uintptr, mode int32) int32
	getVersion  func(h uintptr, v *int32) int32
	getProperty func(kind int32, v *int32) int32 // optional: versions without a handle
	sgemm       func(h uintptr, ta, tb int32, m, n, k int32, alpha *float32, a uintptr, lda int32, b uintptr, ldb int32, beta *float32, c uintptr, ldc int32) int32
}

func loadCublas(getenv func(string) string, dlopen dlopener) (*cublasLib, error) {
	spec := cublasSpec(getenv)
	h, path, tried, err := spec.open(getenv, dlopen)
	if err != nil {
		return nil, &LibraryError{Lib: spec.Name, Tried: tried, Err: err}
	}
	l := &cublasLib{Path: path}
	b := &symbolBinder{lib: h, libName: path}
	b.bind(&l.create, "cublasCreate_v2")
	b.bind(&l.destroy, "cublasDestroy_v2")
	b.bind(&l.setStream, "cublasSetStream_v2")
	b.bind(&l.setMathMode, "cublasSetMathMode")
	b.bind(&l.getVersion, "cublasGetVersion_v2")
	b.bind(&l.sgemm, "cublasSgemm_v2")
	b.optional(&l.getProperty, "cublasGetProperty")
	if b.err != nil {
		return nil, &LibraryError{Lib: spec.Name, Tried: []string{path}, Err: b.err}
	}
	return l, nil
}

// MathMode selects cuBLAS's cublasMath_t.
type MathMode int32

const (
	// MathDefault is CUBLAS_DEFAULT_MATH: true FP32 for SGEMM.
	MathDefault MathMode = 0
	// MathTF32 is CUBLAS_TF32_TENSOR_OP_MATH: FP32 in and out, TF32 tensor
	// cores inside (about 10 mantissa bits per product).
	MathTF32 MathMode = 3
)

// BLAS is a cuBLAS handle bound to one Device's compute stream.
type BLAS struct {
	lib     *cublasLib
	h       uintptr
	Version int
}

// BLAS returns the device's cuBLAS handle, creating it on first use. It is
// an error (a *LibraryError) when cuBLAS cannot be loaded.
func (d *Device) BLAS() (*BLAS, error) {
	var out *BLAS
	err := d.do(func() error {
		if d.blas != nil {
			out = d.blas
			return nil
		}
		lib, err := loadCublas(os.Getenv, systemDlopen)
		if err != nil {
			return err
		}
		bl := &BLAS{lib: lib}
		if err := blasCheck("cublasCreate_v2", lib.create(&bl.h)); err != nil {
			return err
		}
		var v int32
		if err := blasCheck("cublasGetVersion_v2", lib.getVersion(bl.h, &v)); err != nil {
			return err
		}
		bl.Version = int(v)
		if err := blasCheck("cublasSetStream_v2", lib.setStream(bl.h, d.stream)); err != nil {
			return err
		}
		if err := blasCheck("cublasSetMathMode", lib.setMathMode(bl.h, int32(MathDefault))); err != nil {
			return err
		}
		d.blas, out = bl, bl
		return nil
	})
	return out, err
}

// Path returns the cuBLAS library file in use.
func (b *BLAS) Path() string { return b.lib.Path }

func blasCheck(call string, status int32) error {
	if status == 0 {
		return nil
	}
	return &BLASError{Call: call, Status: status}
}

// SetMathMode switches between true FP32 and TF32 tensor-core SGEMM.
func (d *Device) SetMathMode(m MathMode) error {
	bl, err := d.BLAS()
	if err != nil {
		return err
	}
	return d.do(func() error { return blasCheck("cublasSetMathMode", bl.lib.setMathMode(bl.h, int32(m))) })
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major device
// matrices, with the argument convention of tensor/gemm.Sgemm: op(A) is
// m×k, op(B) is k×n, C is m×n, lda/ldb/ldc are row strides. cuBLAS is
// column-major, so it computes Cᵀ = op(B)ᵀ·op(A)ᵀ, which has the same
// memory layout as row-major C.
func (d *Device) Sgemm(transA, transB bool, m, n, k int, alpha float32, a DevPtr, lda int, b DevPtr, ldb int, beta float32, c DevPtr, ldc int) error {
	if m < 0 || n < 0 || k < 0 {
		return fmt.Errorf("sgemm %dx%dx%d: negative size", m, n, k)
	}
	if m == 0 || n == 0 {
		return nil
	}
	bl, err := d.BLAS()
	if err != nil {
		return err
	}
	op := func(t bool) int32 {
		if t {
			return 1 // CUBLAS_OP_T
		}
		return 0 // CUBLAS_OP_N
	}
	al, be := new(float32), new(float32)
	*al, *be = alpha, beta
	return d.do(func() error {
		ev := d.profBegin()
		defer d.profEnd("cublasSgemm", ev)
		return blasCheck("cublasSgemm_v2", bl.lib.sgemm(bl.h, op(transB), op(transA), i32(n), i32(m), i32(k),
			al, uintptr(b), i32(ldb), uintptr(a), i32(lda), be, uintptr(c), i32(ldc)))
	})
}

func (b *BLAS) close(d *Device) error {
	return d.do(func() error {
		if b.h == 0 {
			return nil
		}
		err := blasCheck("cublasDestroy_v2", b.lib.destroy(b.h))
		b.h = 0
		return err
	})
}
