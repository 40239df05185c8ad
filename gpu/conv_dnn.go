package gpu

import (
	"errors"
	"fmt"
)

// Whole-batch convolutions through cuDNN. A plan per shape holds the
// descriptors, made on the shape's first use and kept, as a training loop
// repeats its shapes, and the algorithm of each direction, chosen on that
// direction's first use (inference never ranks the backward ones, which
// matters when ranking runs them: DNN.Benchmark).

// convWorkLimit caps one convolution's workspace: cuDNN's fastest
// algorithms for large images (FFT) can ask for gigabytes.
const convWorkLimit = 512 << 20

// convKey identifies a convolution shape.
type convKey struct {
	g       ConvGeom
	n, cout int
}

// convAlgo is an algorithm, the workspace it needs and its math type.
type convAlgo struct {
	algo  int32
	bytes uint64
	math  int32
}

// The directions of a convolution, indexing convPlan.algos.
const (
	convForward = iota
	convBackwardData
	convBackwardFilter
)

var convDirNames = [...]string{"forward", "backward data", "backward filter"}

// convPlan is one shape's descriptors and algorithms, or why cuDNN cannot
// run it (err, or algoErr for one direction: the shape, or that direction,
// then always takes the caller's own kernels).
type convPlan struct {
	x, y, w, conv uintptr
	algos         [3]*convAlgo
	algoErr       [3]error
	err           error
}

// DNNUnavailableError says cuDNN cannot run a convolution: the library is
// absent or switched off, or it has no algorithm for the shape. Callers
// fall back to im2col and GEMM; other errors are device failures.
type DNNUnavailableError struct{ Err error }

func (e *DNNUnavailableError) Error() string { return "cuDNN unavailable: " + e.Err.Error() }
func (e *DNNUnavailableError) Unwrap() error { return e.Err }

// ConvFwd overwrites y [n,cout,OH,OW] with the cross-correlation of x
// [n,C,H,W] and w [cout,C,KH,KW] (PyTorch's conv2d without bias).
func (d *Device) ConvFwd(y, x, w DevPtr, g ConvGeom, n, cout int) error {
	return d.dnnRun(convForward, g, n, cout, func(dn *DNN, p *convPlan, a *convAlgo, work uintptr, one, zero *float32) error {
		return dn.lib.check("cudnnConvolutionForward", dn.lib.fwd(dn.h, one, p.x, uintptr(x), p.w, uintptr(w), p.conv,
			a.algo, work, a.bytes, zero, p.y, uintptr(y)))
	})
}

// ConvBwdData overwrites dx [n,C,H,W] with the gradient of ConvFwd's
// input for the output gradient dy.
func (d *Device) ConvBwdData(dx, w, dy DevPtr, g ConvGeom, n, cout int) error {
	return d.dnnRun(convBackwardData, g, n, cout, func(dn *DNN, p *convPlan, a *convAlgo, work uintptr, one, zero *float32) error {
		return dn.lib.check("cudnnConvolutionBackwardData", dn.lib.bwdData(dn.h, one, p.w, uintptr(w), p.y, uintptr(dy), p.conv,
			a.algo, work, a.bytes, zero, p.x, uintptr(dx)))
	})
}

// ConvBwdFilter overwrites dw [cout,C,KH,KW] with the gradient of
// ConvFwd's weight for the output gradient dy, summed over the batch.
func (d *Device) ConvBwdFilter(dw, x, dy DevPtr, g ConvGeom, n, cout int) error {
	return d.dnnRun(convBackwardFilter, g, n, cout, func(dn *DNN, p *convPlan, a *convAlgo, work uintptr, one, zero *float32) error {
		return dn.lib.check("cudnnConvolutionBackwardFilter", dn.lib.bwdFilt(dn.h, one, p.x, uintptr(x), p.y, uintptr(dy), p.conv,
			a.algo, work, a.bytes, zero, p.w, uintptr(dw)))
	})
}

// dnnRun finds the shape's plan and the direction's algorithm and runs
// call with a workspace from the caching allocator, freed once queued:
// later work on the compute stream that reuses the block runs after the
// convolution.
func (d *Device) dnnRun(dir int, g ConvGeom, n, cout int, call func(dn *DNN, p *convPlan, a *convAlgo, work uintptr, one, zero *float32) error) error {
	if err := g.check(); err != nil {
		return err
	}
	dn, err := d.DNN()
	if err != nil {
		return &DNNUnavailableError{Err: err}
	}
	one, zero := new(float32), new(float32)
	*one = 1
	return d.do(func() error {
		p := dn.plan(g, n, cout)
		if p.err != nil {
			return &DNNUnavailableError{Err: p.err}
		}
		a, err := dn.algo(p, dir, g, n, cout)
		if err != nil {
			return err
		}
		if dn.TF32 { // the math type the heuristics chose the algorithm for, as PyTorch sets it
			if err := dn.lib.check("cudnnSetConvolutionMathType", dn.lib.setConvMath(p.conv, a.math)); err != nil {
				return err
			}
		}
		var work uintptr
		if b := a.bytes; b > 0 {
			var err error
			if work, err = d.alloc.Alloc(int(b)); err != nil {
				return fmt.Errorf("cuDNN workspace: %w", err)
			}
			defer d.alloc.Free(work)
		}
		if d.prof != nil {
			ev := d.profBegin()
			defer d.profEnd(fmt.Sprintf("cudnn %s algo %d", convDirNames[dir], a.algo), ev)
		}
		return call(dn, p, a, work, one, zero)
	})
}

// plan returns the shape's plan, making its descriptors on first use;
// called with the Device's lock held.
func (dn *DNN) plan(g ConvGeom, n, cout int) *convPlan {
	k := convKey{g: g, n: n, cout: cout}
	if p, ok := dn.plans[k]; ok {
		return p
	}
	p := &convPlan{}
	if err := dn.makePlan(p, g, n, cout); err != nil {
		p.err = errors.Join(fmt.Errorf("conv %s: %w", shapeString(g, n, cout), err), p.destroy(dn.lib))
		*p = convPlan{err: p.err}
	}
	dn.plans[k] = p
	return p
}

func shapeString(g ConvGeom, n, cout int) string {
	return fmt.Sprintf("[%d,%d,%d,%d] * [%d,%d,%d,%d]", n, g.C, g.H, g.W, cout, g.C, g.KH, g.KW)
}

func (dn *DNN) makePlan(p *convPlan, g ConvGeom, n, cout int) error {
	l, i := dn.lib, func(v int) int32 { return int32(v) }
	steps := []struct {
		call string
		run  func() int32
	}{
		{"cudnnCreateTensorDescriptor", func() int32 { return l.createTensor(&p.x) }},
		{"cudnnSetTensor4dDescriptor", func() int32 {
			return l.setTensor4d(p.x, cudnnTensorNCHW, cudnnDataFloat, i(n), i(g.C), i(g.H), i(g.W))
		}},
		{"cudnnCreateTensorDescriptor", func() int32 { return l.createTensor(&p.y) }},
		{"cudnnSetTensor4dDescriptor", func() int32 {
			return l.setTensor4d(p.y, cudnnTensorNCHW, cudnnDataFloat, i(n), i(cout), i(g.OH()), i(g.OW()))
		}},
		{"cudnnCreateFilterDescriptor", func() int32 { return l.createFilter(&p.w) }},
		{"cudnnSetFilter4dDescriptor", func() int32 {
			return l.setFilter4d(p.w, cudnnDataFloat, cudnnTensorNCHW, i(cout), i(g.C), i(g.KH), i(g.KW))
		}},
		{"cudnnCreateConvolutionDescriptor", func() int32 { return l.createConv(&p.conv) }},
		{"cudnnSetConvolution2dDescriptor", func() int32 {
			return l.setConv2d(p.conv, i(g.PadH), i(g.PadW), i(g.StrideH), i(g.StrideW), i(g.DilH), i(g.DilW), cudnnCrossCorrelation, cudnnDataFloat)
		}},
		// FP32 arithmetic, as the CPU path and cuBLAS's default, unless
		// TF32 is asked for.
		{"cudnnSetConvolutionMathType", func() int32 { return l.setConvMath(p.conv, dn.mathType()) }},
	}
	for _, s := range steps {
		if err := l.check(s.call, s.run()); err != nil {
			return err
		}
	}
	return nil
}

// algo returns the plan's algorithm for direction dir, ranking the
// direction's algorithms on first use (a failure is kept, as a *DNNUnavailableError).
func (dn *DNN) algo(p *convPlan, dir int, g ConvGeom, n, cout int) (*convAlgo, error) {
	if a := p.algos[dir]; a != nil {
		return a, nil
	}
	if err := p.algoErr[dir]; err != nil {
		return nil, err
	}
	a, err := dn.rank(p, dir)
	if err != nil {
		err = &DNNUnavailableError{Err: fmt.Errorf("conv %s: %w", shapeString(g, n, cout), err)}
		p.algoErr[dir] = err
		return nil, err
	}
	p.algos[dir] = &a
	return &a, nil
}

// rank asks cuDNN for direction dir's algorithms, fastest first (by its
// heuristics, or by running them with Benchmark), and takes one.
func (dn *DNN) rank(p *convPlan, dir int) (convAlgo, error) {
	l := dn.lib
	type ranker func(h, a, b, conv, c uintptr, requested int32, returned *int32, perf *algoPerf) int32
	var (
		rank, find ranker
		a, b, c    uintptr // the ranker's descriptor arguments
		name       string  // of the direction in cuDNN's function names
		work       func(algo int32, bytes *uint64) int32
	)
	switch dir {
	case convForward:
		rank, find, a, b, c, name = l.fwdAlgos, l.fwdFind, p.x, p.w, p.y, "Forward"
		work = func(algo int32, n *uint64) int32 { return l.fwdWork(dn.h, p.x, p.w, p.conv, p.y, algo, n) }
	case convBackwardData:
		rank, find, a, b, c, name = l.bwdDataAlgos, l.bwdDataFind, p.w, p.y, p.x, "BackwardData"
		work = func(algo int32, n *uint64) int32 { return l.bwdDataWork(dn.h, p.w, p.y, p.conv, p.x, algo, n) }
	default:
		rank, find, a, b, c, name = l.bwdFiltAlgos, l.bwdFiltFind, p.x, p.y, p.w, "BackwardFilter"
		work = func(algo int32, n *uint64) int32 { return l.bwdFiltWork(dn.h, p.x, p.y, p.conv, p.w, algo, n) }
	}
	call := "cudnnGetConvolution" + name + "Algorithm_v7"
	if dn.Benchmark {
		rank, call = find, "cudnnFindConvolution"+name+"Algorithm"
	}
	var perfs [8]algoPerf
	var got int32
	if err := l.check(call, rank(dn.h, a, b, p.conv, c, int32(len(perfs)), &got, &perfs[0])); err != nil {
		return convAlgo{}, err
	}
	return chooseAlgo(convDirNames[dir], perfs[:got], dn.Deterministic, work, l)
}

// chooseAlgo returns the first algorithm of cuDNN's heuristic ranking
// (fastest first) that succeeded and whose workspace fits convWorkLimit, as
// PyTorch does by default. With det (DNN.Deterministic) deterministic ones
// come first, the rest only where none fits: the detectors' own kernels
// (RoIAlign's backward, index adds) sum with atomics anyway, so by default
// speed wins.
func chooseAlgo(dir string, perfs []algoPerf, det bool, work func(algo int32, bytes *uint64) int32, l *cudnnLib) (convAlgo, error) {
	passes := []func(algoPerf) bool{func(algoPerf) bool { return true }}
	if det {
		passes = []func(algoPerf) bool{
			func(p algoPerf) bool { return p.Determinism == cudnnDeterministic },
			func(p algoPerf) bool { return p.Determinism != cudnnDeterministic },
		}
	}
	var errs []error
	for _, take := range passes {
		for _, pf := range perfs {
			if pf.Status != 0 || !take(pf) {
				continue
			}
			var b uint64
			if err := l.check("workspace size", work(pf.Algo, &b)); err != nil {
				errs = append(errs, fmt.Errorf("algorithm %d: %w", pf.Algo, err))
				continue
			}
			if b <= convWorkLimit {
				return convAlgo{algo: pf.Algo, bytes: b, math: pf.MathType}, nil
			}
		}
	}
	return convAlgo{}, errors.Join(append([]error{fmt.Errorf("no %s algorithm of %d ranked runs within %d MiB of workspace", dir, len(perfs), convWorkLimit>>20)}, errs...)...)
}

// mathType is the math type plans ask cuDNN's heuristics for.
func (dn *DNN) mathType() int32 {
	if dn.TF32 {
		return cudnnDefaultMath
	}
	return cudnnFMAMath
}

// destroy releases the plan's descriptors (zero ones are skipped).
func (p *convPlan) destroy(l *cudnnLib) error {
	var errs []error
	for _, t := range []uintptr{p.x, p.y} {
		if t != 0 {
			errs = append(errs, l.check("cudnnDestroyTensorDescriptor", l.destroyTensor(t)))
		}
	}
	if p.w != 0 {
		errs = append(errs, l.check("cudnnDestroyFilterDescriptor", l.destroyFilter(p.w)))
	}
	if p.conv != 0 {
		errs = append(errs, l.check("cudnnDestroyConvolutionDescriptor", l.destroyConv(p.conv)))
	}
	return errors.Join(errs...)
}
