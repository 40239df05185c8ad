package tensor

import (
	"math"
	"slices"
	"testing"
)

func TestGradCheckCatchesWrongGradient(t *testing.T) {
	// A deliberately wrong backward (2x the true gradient) must fail the
	// checker; run it in a sub-test whose failure we observe.
	wrong := func(x *Tensor) *Tensor {
		e := x.eng
		y := e.newLike(x.shape)
		e.dev.Unary(UnarySquare, 0, x.buf, y.buf)
		record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
			dx := e.get(x.Len())
			e.dev.UnaryBackward(UnarySquare, 0, x.buf, y.buf, dy, dx)
			e.dev.Unary(UnaryScale, 2, dx, dx)
			return []Buffer{dx}
		})
		return y
	}
	ft := &testing.T{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		gradCheck(ft, func(xs []*Tensor) *Tensor { return wrong(xs[0]) }, input{[]float32{0.5, -1, 2}, []int{3}})
	}()
	<-done
	if !ft.Failed() {
		t.Fatal("gradient checker accepted a wrong gradient")
	}
}

func TestGradAccumulatesOverUses(t *testing.T) {
	e := NewEngine(NewCPU(0))
	x := e.FromData([]float32{1, 2, 3}, 3).SetRequiresGrad(true)
	y := Sum(Add(Mul(x, x), x)) // d/dx = 2x + 1
	y.Backward()
	checkClose(t, "grad", x.Grad().Data(), []float32{3, 5, 7}, 0, 0)
}

func TestNoGradRecordsNothing(t *testing.T) {
	e := NewEngine(NewCPU(0))
	x := e.FromData([]float32{1, 2}, 2).SetRequiresGrad(true)
	var y *Tensor
	e.NoGrad(func() { y = Relu(x) })
	if y.RequiresGrad() || y.node != nil {
		t.Fatal("no-grad op recorded a graph node")
	}
	if !e.GradEnabled() {
		t.Fatal("NoGrad did not restore grad mode")
	}
}

func TestPersistentGradReuseAndZeroGrad(t *testing.T) {
	e := NewEngine(NewCPU(0))
	w := e.NewPersistent(2)
	w.CopyFrom([]float32{1, -1})
	w.SetRequiresGrad(true)
	for step := 0; step < 3; step++ {
		m := e.Mark()
		x := e.FromData([]float32{3, 4}, 2)
		Sum(Mul(w, x)).Backward()
		checkClose(t, "grad", w.Grad().Data(), []float32{3, 4}, 0, 0)
		w.ZeroGrad()
		e.Release(m)
	}
	if w.Grad() != nil {
		t.Fatal("ZeroGrad left a gradient")
	}
}

// TestReleaseReusesBuffers checks that a training-like loop stops allocating
// device buffers once the pool is warm.
func TestReleaseReusesBuffers(t *testing.T) {
	dev := &countingCPU{CPU: NewCPU(0)}
	e := NewEngine(dev)
	w := e.NewPersistent(4, 3, 3, 3)
	w.SetRequiresGrad(true)
	step := func() {
		m := e.Mark()
		x := e.Full(0.5, 2, 3, 8, 8)
		y := Relu(Conv2d(x, w, nil, ConvOptions{Padding: [2]int{1, 1}}))
		Mean(MaxPool2d(y, 2, 2, 0)).Backward()
		e.Release(m)
	}
	step()
	step()
	before := dev.allocs
	for i := 0; i < 5; i++ {
		step()
	}
	if dev.allocs != before {
		t.Fatalf("warm steps allocated %d new buffers", dev.allocs-before)
	}
}

type countingCPU struct {
	*CPU
	allocs int
}

func (c *countingCPU) Alloc(n int) Buffer { c.allocs++; return c.CPU.Alloc(n) }

func TestSortRowsStableAndNaNLast(t *testing.T) {
	e := NewEngine(NewCPU(0))
	nan := float32(math.NaN())
	x := e.FromData([]float32{1, 3, nan, 3, 0, 1}, 1, 6)
	if got := Argsort(x, true).Data(); !slices.Equal(got, []int32{1, 3, 0, 5, 4, 2}) {
		t.Fatalf("descending argsort = %v", got)
	}
	if got := Argsort(x, false).Data(); !slices.Equal(got, []int32{4, 0, 5, 1, 3, 2}) {
		t.Fatalf("ascending argsort = %v", got)
	}
	v, ix := TopK(x, 2, true)
	if !slices.Equal(ix.Data(), []int32{1, 3}) || !slices.Equal(v.Data(), []float32{3, 3}) {
		t.Fatalf("top-2 = %v at %v", v.Data(), ix.Data())
	}
}

func TestMaxPoolTiesTakeFirst(t *testing.T) {
	d := NewCPU(1)
	g := PoolGeom{N: 1, C: 1, H: 2, W: 2, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	y, a := d.Alloc(1), d.AllocIndex(1)
	d.MaxPool2d(buf([]float32{5, 5, 1, 5}), g, y, a)
	if CPUIndexData(a)[0] != 0 || f(y)[0] != 5 {
		t.Fatalf("tie went to %d", CPUIndexData(a)[0])
	}
}

func TestBatchNormRunningStats(t *testing.T) {
	e := NewEngine(NewCPU(0))
	x := e.FromData([]float32{1, 2, 3, 4, 10, 20, 30, 40}, 2, 2, 2) // N=2, C=2, HW=2
	rm, rv := e.NewPersistent(2), e.NewPersistent(2)
	rv.CopyFrom([]float32{1, 1})
	BatchNorm(x, nil, nil, rm, rv, BatchNormOptions{Training: true, Momentum: 0.1, Eps: 1e-5})
	// channel 0 = {1,2,10,20}, channel 1 = {3,4,30,40}; PyTorch tracks the unbiased variance.
	checkClose(t, "running mean", rm.Data(), []float32{0.825, 1.925}, 1e-6, 1e-6)
	checkClose(t, "running var", rv.Data(), []float32{0.9 + 0.1*float32(varUnbiased(1, 2, 10, 20)), 0.9 + 0.1*float32(varUnbiased(3, 4, 30, 40))}, 1e-4, 1e-5)
}

func varUnbiased(v ...float64) float64 {
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return s / float64(len(v)-1)
}

func TestFreeReturnsBuffersEarly(t *testing.T) {
	e := NewEngine(NewCPU(0))
	e.NoGrad(func() {
		m := e.Mark()
		x := e.Full(1, 4, 4)
		view := Reshape(x, 16)
		y := Relu(x)
		e.Free(view) // a view: nothing happens
		if b, _ := e.PoolStats(); b != 0 {
			t.Fatalf("freeing a view pooled %d buffers", b)
		}
		e.Free(x)
		if b, _ := e.PoolStats(); b != 1 {
			t.Fatalf("pool holds %d buffers after Free, want 1", b)
		}
		z := Relu(y) // reuses x's buffer
		checkClose(t, "z", z.Data(), y.Data(), 0, 0)
		e.Release(m)
		if b, _ := e.PoolStats(); b != 2 {
			t.Fatalf("pool holds %d buffers after Release, want 2 (no double put)", b)
		}
	})
	defer func() {
		if recover() == nil {
			t.Fatal("Free with grad mode on did not panic")
		}
	}()
	e.Free(e.Zeros(1))
}

func TestSizeClass(t *testing.T) {
	for n := 0; n < 1<<16; n++ {
		c := sizeClass(n)
		if c < n || float64(c) > float64(n)*1.0625+1 || sizeClass(c) != c {
			t.Fatalf("sizeClass(%d) = %d (class of class %d)", n, c, sizeClass(c))
		}
	}
}

// TestVaryingSizesReuseMemory runs steps whose tensor sizes change every
// time (images of different shapes): the pool must reuse class buffers, and
// a limit must bound what it keeps.
func TestVaryingSizesReuseMemory(t *testing.T) {
	dev := &countingCPU{CPU: NewCPU(0)}
	e := NewEngine(dev)
	w := e.NewPersistent(4, 3, 3, 3).SetRequiresGrad(true)
	step := func(h, wd int) {
		m := e.Mark()
		x := e.Full(0.5, 1, 3, h, wd)
		Mean(MaxPool2d(Relu(Conv2d(x, w, nil, ConvOptions{Padding: [2]int{1, 1}})), 2, 2, 0)).Backward()
		e.Release(m)
	}
	step(64, 64)
	first := dev.allocs
	for i := 0; i < 24; i++ {
		step(60+i%4, 61+i%3) // 12 shapes, each a little smaller than the first
	}
	warm := dev.allocs
	for i := 0; i < 24; i++ {
		step(60+i%4, 61+i%3)
	}
	if dev.allocs != warm {
		t.Fatalf("warm steps of varying sizes allocated %d new buffers", dev.allocs-warm)
	}
	if grown := warm - first; grown > first/4 {
		t.Fatalf("12 smaller shapes allocated %d buffers beyond the first step's %d", grown, first)
	}
	_, held := e.PoolStats()
	e.SetPoolLimit(held / 2)
	e.Trim()
	step(64, 64)
	if _, now := e.PoolStats(); now > held/2 {
		t.Fatalf("pool holds %d elements over its limit %d", now, held/2)
	}
}

// TestTrimIdleKeepsWhatAStepReuses: steps of one shape run from the pool
// with TrimIdle between them, and a step of a larger shape leaves buffers
// that the next TrimIdle after smaller steps frees.
func TestTrimIdleKeepsWhatAStepReuses(t *testing.T) {
	dev := &countingCPU{CPU: NewCPU(0)}
	e := NewEngine(dev)
	w := e.NewPersistent(4, 3, 3, 3).SetRequiresGrad(true)
	step := func(h int) {
		m := e.Mark()
		x := e.Full(0.5, 1, 3, h, h)
		Mean(Relu(Conv2d(x, w, nil, ConvOptions{Padding: [2]int{1, 1}}))).Backward()
		e.Release(m)
		e.TrimIdle()
	}
	step(32)
	step(32) // the first step ran on an empty pool
	_, small := e.PoolStats()
	warm := dev.allocs
	for range 3 {
		step(32)
	}
	if dev.allocs != warm {
		t.Fatalf("steps of one shape allocated %d buffers with TrimIdle between them", dev.allocs-warm)
	}
	step(96)
	step(32)
	step(32)
	if _, held := e.PoolStats(); held != small {
		t.Fatalf("after a large step and two small ones the pool holds %d elements, want the small steps' %d", held, small)
	}
	e.Trim()
	if n, held := e.PoolStats(); n != 0 || held != 0 {
		t.Fatalf("Trim left %d buffers (%d elements)", n, held)
	}
}

func TestBackwardTwicePanics(t *testing.T) {
	e := NewEngine(NewCPU(0))
	x := e.FromData([]float32{1, 2}, 2).SetRequiresGrad(true)
	h := Square(x)
	Sum(h).Backward()
	for name, fn := range map[string]func(){
		"same root":    func() { Sum(h).Backward() },
		"shared inner": func() { Sum(Relu(h)).Backward() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: second backward through a freed graph did not panic", name)
				}
			}()
			fn()
		}()
	}
}
