package gpu

import (
	"fmt"
	"os"
	"testing"
	"unsafe"
)

// launchRecord is one kernel launch seen by the fake driver.
type launchRecord struct {
	Kernel      string
	Grid, Block dim3
	Sig         string
	Args        []uint64
}

// fakeDriver is a Driver whose functions are Go closures: enough of the
// API for Device methods to run their host-side logic (module loading,
// argument packing, launch geometry, allocator) without a GPU.
type fakeDriver struct {
	drv      *Driver
	dev      *Device
	funcs    map[uintptr]string
	launches []launchRecord
	nextPtr  uintptr
}

func newFakeDevice(t *testing.T) *fakeDriver {
	t.Helper()
	f := &fakeDriver{funcs: map[uintptr]string{}, nextPtr: 0x10000}
	ok := Result(0)
	drv := &Driver{Path: "fake"}
	drv.cuCtxSetCurrent = func(uintptr) Result { return ok }
	drv.cuGetErrorName = func(Result, **byte) Result { return 1 }
	drv.cuGetErrorString = func(Result, **byte) Result { return 1 }
	drv.cuModuleLoadDataEx = func(mod *uintptr, _ unsafe.Pointer, _ uint32, _ *int32, _ *uintptr) Result {
		*mod = 1
		return ok
	}
	drv.cuModuleGetFunction = func(fn *uintptr, _ uintptr, name *byte) Result {
		h := uintptr(len(f.funcs) + 100)
		f.funcs[h] = goString(name)
		*fn = h
		return ok
	}
	drv.cuLaunchKernel = func(fn uintptr, grid, block dim3, _ uint32, _, params uintptr) Result {
		a := f.dev.args
		if params != a.params() {
			t.Errorf("launch %s: params %#x is not the packed array", f.funcs[fn], params)
		}
		f.launches = append(f.launches, launchRecord{Kernel: f.funcs[fn], Grid: grid, Block: block,
			Sig: a.sig(), Args: append([]uint64(nil), a.slots[:a.n]...)})
		return ok
	}
	drv.cuMemAlloc = func(p *uintptr, n uint64) Result {
		*p = f.nextPtr
		f.nextPtr += uintptr(n) + 0x1000
		return ok
	}
	drv.cuMemFree = func(uintptr) Result { return ok }
	drv.cuMemsetD32Async = func(uintptr, uint32, uint64, uintptr) Result { return ok }
	drv.cuMemcpyDtoHAsync = func(unsafe.Pointer, uintptr, uint64, uintptr) Result { return ok }
	drv.cuStreamSynchronize = func(uintptr) Result { return ok }
	drv.cuStreamDestroy = func(uintptr) Result { return ok }
	drv.cuDevicePrimaryCtxRelease = func(int32) Result { return ok }
	drv.cuModuleUnload = func(uintptr) Result { return ok }
	dir := t.TempDir()
	f.drv = drv
	f.dev = newDevice(drv, DeviceInfo{Name: "fake"}, ptxSource{dir: dir})
	writeFakePTX(t, dir)
	return f
}

// writeFakePTX gives every module a PTX file so the loader finds one; the
// fake driver never parses it.
func writeFakePTX(t *testing.T, dir string) {
	for _, m := range kernelModules() {
		if err := writeFile(dir+"/"+m.Name+".ptx", "// fake\n"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLaunchersMatchKernelSignatures calls every typed launcher through the
// fake driver and checks the packed argument kinds against the parameter
// list in gpu/kernels/*.cu, and the fixed launch geometries of the kernels
// whose contract requires one.
func TestLaunchersMatchKernelSignatures(t *testing.T) {
	f := newFakeDevice(t)
	d := f.dev
	p := DevPtr(0x1000)
	conv := ConvGeom{C: 3, H: 9, W: 7, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1}
	pool := PoolGeom{NC: 6, H: 9, W: 9, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	roi := RoIAlignGeom{K: 4, C: 8, H: 20, W: 30, PH: 7, PW: 7, SpatialScale: 0.25, SamplingRatio: 0, Aligned: true}
	calls := []struct {
		kernel string
		call   func() error
	}{
		{kAdd, func() error { return d.Add(p, p, p, 10) }},
		{kFill, func() error { return d.Fill(p, 1, 10) }},
		{kSumSqPartial, func() error { return d.SumSqInto(p, p, 1000) }},
		{kIm2col, func() error { return d.Im2col(p, p, conv) }},
		{kCol2im, func() error { return d.Col2im(p, p, conv) }},
		{kBNTrainBwd, func() error { return d.BatchNormTrainBwd(p, p, p, p, p, p, p, p, 2, 5, 12) }},
		{kMaxPoolFwd, func() error { return d.MaxPoolFwd(p, p, p, pool) }},
		{kMaxPoolBwd, func() error { return d.MaxPoolBwd(p, p, p, pool) }},
		{kUpsampleFwd, func() error { return d.UpsampleNearestFwd(p, p, 6, 5, 4, 2) }},
		{kUpsampleBwd, func() error { return d.UpsampleNearestBwd(p, p, 6, 5, 4, 2) }},
		{kUnary, func() error { return d.Unary(UnaryTanh, 0, p, p, 10) }},
		{kUnaryBwd, func() error { return d.UnaryBwd(UnaryRsqrt, 1e-5, p, p, p, p, 10) }},
		{kBinary, func() error { return d.Binary(BinaryDiv, p, p, p, 10) }},
		{kBinaryBwd, func() error { return d.BinaryBwd(BinaryMul, p, p, p, p, p, 10) }},
		{kAxpby, func() error { return d.Axpby(1, p, 0.5, p, 10) }},
		{kChannelMeanVar, func() error { return d.ChannelMeanVar(p, p, p, 2, 5, 12) }},
		{kChannelAffine, func() error { return d.ChannelAffine(p, p, p, 0, 2, 5, 12) }},
		{kChannelAffineBwd, func() error { return d.ChannelAffineBwd(p, 0, p, p, p, p, 2, 5, 12) }},
		{kSoftmaxCEFwd, func() error { return d.SoftmaxCEFwd(p, p, p, p, 0, 16, 81, -100) }},
		{kSoftmaxCEBwd, func() error { return d.SoftmaxCEBwd(p, p, p, 0, 16, 81, -100, 0.5) }},
		{kRoIAlignFwd, func() error { return d.RoIAlignFwd(p, p, p, roi) }},
		{kRoIAlignBwd, func() error { return d.RoIAlignBwd(p, p, p, roi) }},
		{kStridedCopy, func() error { return d.StridedCopy([]int{4, 5, 3}, p, []int{1, 12, 4}, p, []int{15, 3, 1}, true) }},
		{kBroadcastBinary, func() error {
			return d.BroadcastBinary(BinaryMul, []int{3, 7, 5}, p, p, []int{5, 0, 1}, p, []int{0, 5, 1})
		}},
		{kReduceSum, func() error { return d.ReduceSum(p, p, 3, 11, 13) }},
		{kIndexSelect, func() error { return d.IndexSelect(p, p, p, 3, 7, 5, 4) }},
		{kIndexAdd, func() error { return d.IndexAdd(p, p, p, 3, 7, 5, 4) }},
		{kGatherRows, func() error { return d.GatherRows(p, p, p, 4, 6, 3) }},
		{kScatterAddRows, func() error { return d.ScatterAddRows(p, p, p, 4, 6, 3) }},
		{kSoftmaxRows, func() error { return d.SoftmaxRows(p, p, 7, 13) }},
		{kSoftmaxRowsBwd, func() error { return d.SoftmaxRowsBwd(p, p, p, 7, 13) }},
		{kAvgPoolFwd, func() error { return d.AvgPoolFwd(p, p, pool) }},
		{kAvgPoolBwd, func() error { return d.AvgPoolBwd(p, p, pool) }},
		{kAdaptiveAvgPoolFwd, func() error { return d.AdaptiveAvgPoolFwd(p, p, 6, 9, 9, 7, 7) }},
		{kAdaptiveAvgPoolBwd, func() error { return d.AdaptiveAvgPoolBwd(p, p, 6, 9, 9, 7, 7) }},
		{kFocalFwd, func() error { return d.SigmoidFocalFwd(p, p, p, 16, 9, 2, 0.25) }},
		{kFocalBwd, func() error { return d.SigmoidFocalBwd(p, p, p, p, 16, 9, 2, 0.25) }},
	}
	sigs := cuSignatures(t)
	seen := map[string]bool{}
	for _, c := range calls {
		f.launches = nil
		if err := c.call(); err != nil {
			t.Errorf("%s: %v", c.kernel, err)
			continue
		}
		if len(f.launches) == 0 {
			t.Errorf("%s: no launch", c.kernel)
			continue
		}
		for _, l := range f.launches {
			seen[l.Kernel] = true
			if l.Sig != sigs[l.Kernel] {
				t.Errorf("%s: launcher packs %q, %s declares %q", l.Kernel, l.Sig, moduleOf(l.Kernel)+".cu", sigs[l.Kernel])
			}
			checkGeometry(t, l)
		}
	}
	for _, m := range kernelModules() {
		for _, e := range m.Entries {
			if !seen[e] {
				t.Errorf("kernel %s has no launcher exercised by this test", e)
			}
		}
	}
}

// checkGeometry enforces the launch contracts written in the .cu files.
func checkGeometry(t *testing.T, l launchRecord) {
	t.Helper()
	switch l.Kernel {
	case kSumPartial, kSumSqPartial:
		if l.Block.X != 256 {
			t.Errorf("%s: block %v, contract is 256 threads", l.Kernel, l.Block)
		}
	case kBNTrainBwd, kChannelMeanVar, kChannelAffineBwd:
		if l.Block.X != 256 || l.Grid.X != 5 {
			t.Errorf("%s: grid %v block %v, contract is one 256-thread block per channel (5)", l.Kernel, l.Grid, l.Block)
		}
	case kReduceSum:
		// [3, 11, 13]: 16 columns by 16 rows per block, one block row per outer index.
		if l.Block.X*l.Block.Y > 256 || l.Block.Y&(l.Block.Y-1) != 0 || l.Block.X != 16 || l.Grid.X != 1 || l.Grid.Y != 3 {
			t.Errorf("%s: grid %v block %v, contract is bx*by <= 256, by a power of two, grid (ceil(13/bx), 3)", l.Kernel, l.Grid, l.Block)
		}
	case kSoftmaxRows, kSoftmaxRowsBwd:
		if l.Block.X != 128 || l.Grid.X != 7 {
			t.Errorf("%s: grid %v block %v, contract is 128 threads, one block per row (7)", l.Kernel, l.Grid, l.Block)
		}
	default:
		if l.Block.X == 0 || l.Grid.X == 0 {
			t.Errorf("%s: empty launch grid %v block %v", l.Kernel, l.Grid, l.Block)
		}
	}
}

func TestLaunchRejectsBadGeometry(t *testing.T) {
	d := newFakeDevice(t).dev
	p := DevPtr(0x1000)
	tests := []struct {
		name string
		err  error
	}{
		{"conv zero stride", d.Im2col(p, p, ConvGeom{C: 1, H: 4, W: 4, KH: 3, KW: 3, DilH: 1, DilW: 1})},
		{"pool pad over half kernel", d.MaxPoolFwd(p, p, p, PoolGeom{NC: 1, H: 4, W: 4, KH: 2, KW: 2, StrideH: 1, StrideW: 1, PadH: 2})},
		{"roi zero scale", d.RoIAlignFwd(p, p, p, RoIAlignGeom{K: 1, C: 1, H: 4, W: 4, PH: 2, PW: 2})},
		{"softmax no classes", d.SoftmaxCEFwd(p, p, p, p, 0, 4, 0, -100)},
		{"focal no classes", d.SigmoidFocalFwd(p, p, p, 4, 0, 2, 0.25)},
		{"focal negative gamma", d.SigmoidFocalBwd(p, p, p, p, 4, 3, -1, 0.25)},
	}
	for _, tc := range tests {
		if tc.err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
}

func TestSumUsesFixedGridAndCache(t *testing.T) {
	f := newFakeDevice(t)
	d := f.dev
	for i := 0; i < 3; i++ {
		if _, err := d.Sum(DevPtr(0x1000), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	// Two launches per call: 1024 blocks, then 1 block over the partials.
	if len(f.launches) != 6 || f.launches[0].Grid.X != reduceBlocks || f.launches[1].Grid.X != 1 ||
		f.launches[1].Args[2] != reduceBlocks {
		t.Errorf("launches = %+v", f.launches[:2])
	}
	s := d.MemStats()
	if s.RawAllocs != 2 || s.Allocated != 0 {
		t.Errorf("allocator after 3 sums: %+v, want 2 raw allocations (partials, result) reused", s)
	}
}

func writeFile(p, s string) error {
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}
