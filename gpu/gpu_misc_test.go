package gpu

import (
	"errors"
	"strings"
	"testing"
)

// sgemmRef is the plain row-major triple loop (float64 accumulation) with
// the argument convention of Device.Sgemm.
func sgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			v := alpha * float32(s)
			if beta != 0 {
				v += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = v
		}
	}
}

// gpuBLAS returns the device's cuBLAS, skipping with the reason when the
// library is not installed.
func gpuBLAS(t testing.TB, d *Device) *BLAS {
	t.Helper()
	bl, err := d.BLAS()
	var le *LibraryError
	if errors.As(err, &le) {
		t.Skipf("cuBLAS test skipped: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return bl
}

func TestGPUSgemm(t *testing.T) {
	d := gpuDevice(t)
	bl := gpuBLAS(t, d)
	t.Logf("cuBLAS %d from %s", bl.Version, bl.Path())
	for _, tc := range []struct {
		ta, tb  bool
		m, n, k int
	}{
		{false, false, 127, 65, 33}, {true, false, 64, 100, 257}, {false, true, 31, 17, 500}, {true, true, 200, 3, 9},
	} {
		ar, ac := tc.m, tc.k
		if tc.ta {
			ar, ac = tc.k, tc.m
		}
		br, bc := tc.k, tc.n
		if tc.tb {
			br, bc = tc.n, tc.k
		}
		a, b, c := randn(30, ar*ac), randn(31, br*bc), randn(32, tc.m*tc.n)
		pa, pb, pc := upload(t, d, a), upload(t, d, b), upload(t, d, c)
		if err := d.Sgemm(tc.ta, tc.tb, tc.m, tc.n, tc.k, 1.5, pa, ac, pb, bc, 0.5, pc, tc.n); err != nil {
			t.Fatal(err)
		}
		sgemmRef(tc.ta, tc.tb, tc.m, tc.n, tc.k, 1.5, a, ac, b, bc, 0.5, c, tc.n)
		checkClose(t, "sgemm", download(t, d, pc, len(c)), c, 1e-4*float64(tc.k), 1e-4)
	}
}

// TestGPUAllReduceSameDevice runs the "--devices cuda:0,0" path: two
// replicas (two Devices, two streams, two allocators) on one GPU.
func TestGPUAllReduceSameDevice(t *testing.T) {
	d0 := gpuDevice(t)
	d1, err := openDevice(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d1.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, n := range []int{1, 1000, 1 << 20} {
		g0, g1 := randn(40, n), randn(41, n)
		p0 := upload(t, d0, g0)
		p1, err := d1.Alloc(4 * n)
		if err != nil {
			t.Fatal(err)
		}
		if err := d1.WriteFloat32(p1, g1); err != nil {
			t.Fatal(err)
		}
		if err := AllReduceSum([]*Device{d0, d1}, []DevPtr{p0, p1}, n); err != nil {
			t.Fatal(err)
		}
		want := make([]float32, n)
		addRef(want, g0, g1)
		checkClose(t, "replica 0", download(t, d0, p0, n), want, 0, 0)
		got1 := make([]float32, n)
		if err := d1.ReadFloat32(got1, p1); err != nil {
			t.Fatal(err)
		}
		checkClose(t, "replica 1", got1, want, 0, 0)
		if err := d1.Free(p1); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGPUAllocatorReuse checks the caching allocator on the device: the
// second round of the same sizes makes no cuMemAlloc.
func TestGPUAllocatorReuse(t *testing.T) {
	d := gpuDevice(t)
	before := d.MemStats()
	sizes := []int{4, 1000, 1 << 20, 3<<20 + 5}
	for round := 0; round < 2; round++ {
		var ps []DevPtr
		for _, s := range sizes {
			p, err := d.Alloc(s)
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		for _, p := range ps {
			if err := d.Free(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	after := d.MemStats()
	if after.RawAllocs-before.RawAllocs > len(sizes) {
		t.Errorf("raw allocations grew by %d for %d sizes used twice", after.RawAllocs-before.RawAllocs, len(sizes))
	}
	free, total, err := d.MemInfo()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("allocator %+v; device free %.1f of %.1f GiB", after, float64(free)/(1<<30), float64(total)/(1<<30))
}

// TestGPUPinnedUpload copies a batch through a pinned buffer on the copy
// stream and uses it on the compute stream.
func TestGPUPinnedUpload(t *testing.T) {
	d := gpuDevice(t)
	const n = 1 << 18
	buf, err := d.AllocPinned(4 * n)
	if err != nil {
		t.Fatal(err)
	}
	defer d.FreePinned(buf)
	host := buf.Float32s()
	src := randn(50, n)
	copy(host, src)
	dst, out := alloc(t, d, n), alloc(t, d, n)
	if err := d.Upload(dst, buf, 4*n); err != nil {
		t.Fatal(err)
	}
	if err := d.Add(out, dst, dst, n); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, n)
	addRef(want, src, src)
	checkClose(t, "upload then add", download(t, d, out, n), want, 0, 0)
	if s := d.PinnedStats(); s.Allocated < 4*n {
		t.Errorf("pinned stats %+v", s)
	}
}

// TestGPUErrors checks that driver failures come back as typed errors.
func TestGPUErrors(t *testing.T) {
	d := gpuDevice(t)
	huge := int(2 * d.Info().TotalMem) // twice the device: certainly out of memory
	_, err := d.Alloc(huge)
	if !errors.Is(err, ErrOutOfMemory) {
		t.Errorf("Alloc(%d): err = %v, want ErrOutOfMemory", huge, err)
	}
	var ce *CUDAError
	if errors.As(err, &ce) && (ce.Name != "CUDA_ERROR_OUT_OF_MEMORY" || ce.Desc == "") {
		t.Errorf("CUDAError = %+v, want name and description from the driver", ce)
	}
	t.Logf("out-of-memory error text: %v", err)
	if _, err := OpenWith(d.Driver(), 1000); err == nil {
		t.Error("OpenWith(1000): want an error")
	}
}

// TestGPUNCCL binds NCCL and all-reduces over a one-rank communicator (all
// a one-GPU machine allows; the sum over one rank is the identity).
func TestGPUNCCL(t *testing.T) {
	d := gpuDevice(t)
	c, err := NewNCCL([]*Device{d})
	var le *LibraryError
	if errors.As(err, &le) {
		t.Skipf("NCCL test skipped: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("NCCL %d from %s", c.Version, c.Path())
	x := randn(70, 4097)
	p := upload(t, d, x)
	if err := c.AllReduceSum([]DevPtr{p}, len(x)); err != nil {
		t.Fatal(err)
	}
	checkClose(t, "nccl one-rank all-reduce", download(t, d, p, len(x)), x, 0, 0)
	if _, err := NewNCCL([]*Device{d, d}); err == nil {
		t.Error("NewNCCL with cuda:0 twice: want an error")
	}
}

func TestGPUCheck(t *testing.T) {
	gpuDevice(t)
	if emulating() {
		t.Skip("Check loads the real driver; nothing to emulate")
	}
	if err := Check([]int{0, 0}); err != nil {
		t.Errorf("Check(cuda:0,0) = %v", err)
	}
	err := Check([]int{0, 4096})
	if err == nil || !strings.Contains(err.Error(), "cuda:4096 does not exist") {
		t.Errorf("Check(cuda:0,4096) = %v", err)
	}
}
