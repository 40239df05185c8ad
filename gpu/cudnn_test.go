package gpu

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// fakeDNN records the cuDNN calls of a fake device; perfs is what the
// heuristics rank, workBytes each algorithm's workspace.
type fakeDNN struct {
	calls     []string
	perfs     []algoPerf
	workBytes map[int32]uint64
	next      uintptr
	live      map[uintptr]string
}

func (f *fakeDNN) newHandle(kind string, d *uintptr) int32 {
	f.next++
	*d = f.next
	f.live[f.next] = kind
	f.calls = append(f.calls, "create "+kind)
	return 0
}

func (f *fakeDNN) free(d uintptr) int32 { delete(f.live, d); return 0 }

func (f *fakeDNN) rank(n int32, got *int32, perf *algoPerf) int32 {
	out := unsafe.Slice(perf, n)
	*got = int32(copy(out, f.perfs))
	f.calls = append(f.calls, "rank")
	return 0
}

func (f *fakeDNN) work(algo int32, b *uint64) int32 { *b = f.workBytes[algo]; return 0 }

func (f *fakeDNN) lib() *cudnnLib {
	l := &cudnnLib{Path: "fake-cudnn"}
	l.getVersion = func() uint64 { return 90600 }
	l.errString = func(int32) uintptr { return 0 }
	l.create = func(h *uintptr) int32 { return f.newHandle("handle", h) }
	l.destroy = f.free
	l.setStream = func(h, s uintptr) int32 { f.calls = append(f.calls, fmt.Sprintf("stream %d", s)); return 0 }
	l.createTensor = func(d *uintptr) int32 { return f.newHandle("tensor", d) }
	l.createFilter = func(d *uintptr) int32 { return f.newHandle("filter", d) }
	l.createConv = func(d *uintptr) int32 { return f.newHandle("conv", d) }
	l.destroyTensor, l.destroyFilter, l.destroyConv = f.free, f.free, f.free
	l.setTensor4d = func(_ uintptr, format, dtype, n, c, h, w int32) int32 {
		f.calls = append(f.calls, fmt.Sprintf("tensor format %d type %d [%d %d %d %d]", format, dtype, n, c, h, w))
		return 0
	}
	l.setFilter4d = func(_ uintptr, dtype, format, k, c, h, w int32) int32 {
		f.calls = append(f.calls, fmt.Sprintf("filter type %d format %d [%d %d %d %d]", dtype, format, k, c, h, w))
		return 0
	}
	l.setConv2d = func(_ uintptr, ph, pw, sh, sw, dh, dw, mode, ct int32) int32 {
		f.calls = append(f.calls, fmt.Sprintf("conv pad %d,%d stride %d,%d dilation %d,%d mode %d compute %d", ph, pw, sh, sw, dh, dw, mode, ct))
		return 0
	}
	l.setConvMath = func(_ uintptr, m int32) int32 { f.calls = append(f.calls, fmt.Sprintf("math %d", m)); return 0 }
	l.fwdAlgos = func(_, _, _, _, _ uintptr, n int32, got *int32, p *algoPerf) int32 { return f.rank(n, got, p) }
	l.bwdDataAlgos, l.bwdFiltAlgos = l.fwdAlgos, l.fwdAlgos
	l.fwdFind = func(_, _, _, _, _ uintptr, n int32, got *int32, p *algoPerf) int32 {
		f.calls = append(f.calls, "find")
		return f.rank(n, got, p)
	}
	l.bwdDataFind, l.bwdFiltFind = l.fwdFind, l.fwdFind
	l.fwdWork = func(_, _, _, _, _ uintptr, a int32, b *uint64) int32 { return f.work(a, b) }
	l.bwdDataWork, l.bwdFiltWork = l.fwdWork, l.fwdWork
	run := func(name string) func(uintptr, *float32, uintptr, uintptr, uintptr, uintptr, uintptr, int32, uintptr, uint64, *float32, uintptr, uintptr) int32 {
		return func(_ uintptr, alpha *float32, _, in1, _, in2, _ uintptr, algo int32, work uintptr, wb uint64, beta *float32, _, out uintptr) int32 {
			f.calls = append(f.calls, fmt.Sprintf("%s algo %d work %v/%d alpha %g beta %g in %#x,%#x out %#x", name, algo, work != 0, wb, *alpha, *beta, in1, in2, out))
			return 0
		}
	}
	l.fwd, l.bwdData, l.bwdFilt = run("forward"), run("backward data"), run("backward filter")
	return l
}

func newFakeDNNDevice(t *testing.T, f *fakeDNN) *Device {
	t.Helper()
	f.live = map[uintptr]string{}
	d := newFakeDevice(t).dev
	d.stream = 7
	dn, err := newDNN(d, f.lib())
	if err != nil {
		t.Fatal(err)
	}
	d.dnn = dn
	return d
}

func TestAlgoPerfLayout(t *testing.T) {
	var p algoPerf
	if unsafe.Sizeof(p) != 48 || unsafe.Offsetof(p.Memory) != 16 || unsafe.Offsetof(p.Determinism) != 24 || unsafe.Offsetof(p.Reserved) != 32 {
		t.Errorf("algoPerf: size %d, memory at %d, determinism at %d, reserved at %d; cuDNN's struct is 48 bytes with them at 16, 24, 32",
			unsafe.Sizeof(p), unsafe.Offsetof(p.Memory), unsafe.Offsetof(p.Determinism), unsafe.Offsetof(p.Reserved))
	}
}

// TestDNNConvCalls (DETFLOW_CUDNN_DETERMINISTIC=1): one plan per shape,
// the fastest-ranked deterministic algorithm whose workspace fits.
func TestDNNConvCalls(t *testing.T) {
	f := &fakeDNN{
		perfs: []algoPerf{
			{Algo: 5, Status: 0},                 // fastest, but non-deterministic
			{Algo: 1, Status: 0, Determinism: 1}, // deterministic, workspace too big
			{Algo: 6, Status: 9, Determinism: 1}, // not supported
			{Algo: 2, Status: 0, Determinism: 1}, // the pick
			{Algo: 0, Status: 0, Determinism: 1}, // slower
		},
		workBytes: map[int32]uint64{1: convWorkLimit + 1, 2: 4096},
	}
	d := newFakeDNNDevice(t, f)
	d.dnn.Deterministic = true
	g := ConvGeom{C: 3, H: 20, W: 16, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1}
	if err := d.ConvFwd(0x3000, 0x1000, 0x2000, g, 2, 8); err != nil {
		t.Fatal(err)
	}
	if err := d.ConvBwdData(0x4000, 0x2000, 0x3000, g, 2, 8); err != nil {
		t.Fatal(err)
	}
	if err := d.ConvBwdFilter(0x5000, 0x1000, 0x3000, g, 2, 8); err != nil {
		t.Fatal(err)
	}
	if err := d.ConvFwd(0x3000, 0x1000, 0x2000, g, 2, 8); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"create handle", "stream 7",
		"create tensor", "tensor format 0 type 0 [2 3 20 16]",
		"create tensor", "tensor format 0 type 0 [2 8 10 8]",
		"create filter", "filter type 0 format 0 [8 3 3 3]",
		"create conv", "conv pad 1,1 stride 2,2 dilation 1,1 mode 1 compute 0", "math 3",
		"rank", "forward algo 2 work true/4096 alpha 1 beta 0 in 0x1000,0x2000 out 0x3000",
		"rank", "backward data algo 2 work true/4096 alpha 1 beta 0 in 0x2000,0x3000 out 0x4000",
		"rank", "backward filter algo 2 work true/4096 alpha 1 beta 0 in 0x1000,0x3000 out 0x5000",
		"forward algo 2 work true/4096 alpha 1 beta 0 in 0x1000,0x2000 out 0x3000",
	}
	if got := strings.Join(f.calls, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("cuDNN calls:\n%s\nwant (one plan for the shape, each direction ranked on first use, then reused):\n%s", got, strings.Join(want, "\n"))
	}
	if s := d.MemStats(); s.Allocated != 0 || s.RawAllocs != 1 {
		t.Errorf("workspace: %+v, want one block, returned after each call", s)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.live) != 0 {
		t.Errorf("cuDNN objects left after Close: %v", f.live)
	}
}

// TestDNNAlgoChoice: by default the fastest-ranked algorithm that fits,
// deterministic or not; with Deterministic, a non-deterministic one only
// where no deterministic one fits.
func TestDNNAlgoChoice(t *testing.T) {
	g := ConvGeom{C: 1, H: 4, W: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}
	for _, c := range []struct {
		det   bool
		perfs []algoPerf
		want  string
	}{
		{false, []algoPerf{{Algo: 1, Determinism: 1}, {Algo: 5}, {Algo: 2, Determinism: 1}}, "forward algo 5 work false/0"},
		{true, []algoPerf{{Algo: 5}, {Algo: 1, Determinism: 1}, {Algo: 2, Determinism: 1}}, "forward algo 2 work false/0"},
		{true, []algoPerf{{Algo: 5}, {Algo: 1, Determinism: 1}}, "forward algo 5 work false/0"},
	} {
		f := &fakeDNN{perfs: c.perfs, workBytes: map[int32]uint64{1: convWorkLimit + 1}}
		d := newFakeDNNDevice(t, f)
		d.dnn.Deterministic = c.det
		if err := d.ConvFwd(3, 1, 2, g, 1, 1); err != nil {
			t.Fatal(err)
		}
		if last := f.calls[len(f.calls)-1]; !strings.HasPrefix(last, c.want) {
			t.Errorf("deterministic %v, ranking %+v: ran %q, want %q", c.det, c.perfs, last, c.want)
		}
	}
}

func TestDNNUnavailable(t *testing.T) {
	f := &fakeDNN{perfs: []algoPerf{{Algo: 0, Status: 9}}}
	d := newFakeDNNDevice(t, f)
	g := ConvGeom{C: 1, H: 4, W: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}
	var ue *DNNUnavailableError
	for range 2 {
		err := d.ConvFwd(3, 1, 2, g, 1, 1)
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "no forward algorithm of 1 ranked runs") {
			t.Fatalf("err = %v, want DNNUnavailableError for a shape without an algorithm", err)
		}
	}
	if n := strings.Count(strings.Join(f.calls, "\n"), "rank"); n != 1 {
		t.Errorf("heuristics asked %d times, want once: a failed plan is kept", n)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.live) != 0 {
		t.Errorf("cuDNN objects left after Close: %v", f.live)
	}
	if _, err := openDNN(d, func(k string) string { return map[string]string{"DETFLOW_CUDNN": "0"}[k] }, nil); !errors.Is(err, ErrDNNOff) {
		t.Errorf("DETFLOW_CUDNN=0: err = %v, want ErrDNNOff", err)
	}
}

// TestDNNBenchmark (DETFLOW_CUDNN_BENCHMARK=1): algorithms are ranked by
// cuDNN's Find functions, which run them, and only for the directions
// used: inference never runs the backward ones.
func TestDNNBenchmark(t *testing.T) {
	f := &fakeDNN{perfs: []algoPerf{{Algo: 6}}}
	d := newFakeDNNDevice(t, f)
	d.dnn.Benchmark = true
	g := ConvGeom{C: 1, H: 4, W: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}
	for range 2 {
		if err := d.ConvFwd(3, 1, 2, g, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	calls := strings.Join(f.calls, "\n")
	if strings.Count(calls, "find\nrank") != 1 || strings.Count(calls, "forward algo 6") != 2 || strings.Contains(calls, "backward") {
		t.Errorf("benchmark calls:\n%s\nwant one Find of the forward direction, then two runs of its pick", calls)
	}
}

// TestSetConvTF32: switching the math type drops the plans ranked under
// the other one, so the next call ranks its shape again, with TF32 now.
func TestSetConvTF32(t *testing.T) {
	f := &fakeDNN{perfs: []algoPerf{{Algo: 4, Determinism: 1, MathType: 1}}}
	d := newFakeDNNDevice(t, f)
	g := ConvGeom{C: 1, H: 4, W: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}
	if err := d.ConvFwd(3, 1, 2, g, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := d.SetConvTF32(false); err != nil || len(d.dnn.plans) != 1 {
		t.Fatalf("SetConvTF32(false) on an FP32 handle: %v, %d plans, want the plan kept", err, len(d.dnn.plans))
	}
	if err := d.SetConvTF32(true); err != nil || !d.dnn.TF32 || len(d.dnn.plans) != 0 {
		t.Fatalf("SetConvTF32(true): %v, TF32 %v, %d plans, want TF32 and none", err, d.dnn.TF32, len(d.dnn.plans))
	}
	f.calls = nil
	if err := d.ConvFwd(3, 1, 2, g, 1, 1); err != nil {
		t.Fatal(err)
	}
	if calls := strings.Join(f.calls, "\n"); !strings.Contains(calls, "math 0\nrank") {
		t.Errorf("after SetConvTF32(true) the plan asks the heuristics with:\n%s", calls)
	}
}

// TestDNNTF32 (DETFLOW_TF32=1): plans ask the heuristics with the default
// math type, and each call sets the math type its algorithm was ranked
// with, as PyTorch does with allow_tf32.
func TestDNNTF32(t *testing.T) {
	f := &fakeDNN{perfs: []algoPerf{{Algo: 4, Determinism: 1, MathType: 1}}}
	d := newFakeDNNDevice(t, f)
	d.dnn.TF32 = true
	g := ConvGeom{C: 1, H: 4, W: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}
	if err := d.ConvFwd(3, 1, 2, g, 1, 1); err != nil {
		t.Fatal(err)
	}
	calls := strings.Join(f.calls, "\n")
	if !strings.Contains(calls, "math 0\nrank") || !strings.HasSuffix(calls, "math 1\nforward algo 4 work false/0 alpha 1 beta 0 in 0x1,0x2 out 0x3") {
		t.Errorf("TF32 calls:\n%s", calls)
	}
}
