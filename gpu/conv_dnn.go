package gpu

import (
	"errors"
	"fmt"
)

// Whole-batch convolutions through cuDNN. A plan per shape holds the
// descriptors and the algorithm chosen for each direction; it is made on
// the shape's first use and kept, as a training loop repeats its shapes.

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

// convPlan is one shape's descriptors and algorithms, or why cuDNN cannot
// run it (err: the shape then always takes the caller's own kernels).
type convPlan struct {
	x, y, w, conv         uintptr
	fwd, bwdData, bwdFilt convAlgo
	err                   error
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
	return d.dnnRun(g, n, cout, func(dn *DNN, p *convPlan, work uintptr, one, zero *float32) error {
		return dn.lib.check("cudnnConvolutionForward", dn.lib.fwd(dn.h, one, p.x, uintptr(x), p.w, uintptr(w), p.conv,
			p.fwd.algo, work, p.fwd.bytes, zero, p.y, uintptr(y)))
	}, func(p *convPlan) convAlgo { return p.fwd })
}

// ConvBwdData overwrites dx [n,C,H,W] with the gradient of ConvFwd's
// input for the output gradient dy.
func (d *Device) ConvBwdData(dx, w, dy DevPtr, g ConvGeom, n, cout int) error {
	return d.dnnRun(g, n, cout, func(dn *DNN, p *convPlan, work uintptr, one, zero *float32) error {
		return dn.lib.check("cudnnConvolutionBackwardData", dn.lib.bwdData(dn.h, one, p.w, uintptr(w), p.y, uintptr(dy), p.conv,
			p.bwdData.algo, work, p.bwdData.bytes, zero, p.x, uintptr(dx)))
	}, func(p *convPlan) convAlgo { return p.bwdData })
}

// ConvBwdFilter overwrites dw [cout,C,KH,KW] with the gradient of
// ConvFwd's weight for the output gradient dy, summed over the batch.
func (d *Device) ConvBwdFilter(dw, x, dy DevPtr, g ConvGeom, n, cout int) error {
	return d.dnnRun(g, n, cout, func(dn *DNN, p *convPlan, work uintptr, one, zero *float32) error {
		return dn.lib.check("cudnnConvolutionBackwardFilter", dn.lib.bwdFilt(dn.h, one, p.x, uintptr(x), p.y, uintptr(dy), p.conv,
			p.bwdFilt.algo, work, p.bwdFilt.bytes, zero, p.w, uintptr(dw)))
	}, func(p *convPlan) convAlgo { return p.bwdFilt })
}

// dnnRun finds the shape's plan and runs call with a workspace from the
// caching allocator, freed once queued: later work on the compute stream
// that reuses the block runs after the convolution.
func (d *Device) dnnRun(g ConvGeom, n, cout int, call func(dn *DNN, p *convPlan, work uintptr, one, zero *float32) error, algo func(*convPlan) convAlgo) error {
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
		a := algo(p)
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
		return call(dn, p, work, one, zero)
	})
}

// plan returns the shape's plan, making it on first use; called with the
// Device's lock held.
func (dn *DNN) plan(g ConvGeom, n, cout int) *convPlan {
	k := convKey{g: g, n: n, cout: cout}
	if p, ok := dn.plans[k]; ok {
		return p
	}
	p := &convPlan{}
	if err := dn.makePlan(p, g, n, cout); err != nil {
		p.err = errors.Join(fmt.Errorf("conv [%d,%d,%d,%d] * [%d,%d,%d,%d]: %w", n, g.C, g.H, g.W, cout, g.C, g.KH, g.KW, err), p.destroy(dn.lib))
		*p = convPlan{err: p.err}
	}
	dn.plans[k] = p
	return p
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
	var err error
	var perfs [8]algoPerf
	var got int32
	if err := l.check("cudnnGetConvolutionForwardAlgorithm_v7", l.fwdAlgos(dn.h, p.x, p.w, p.conv, p.y, 8, &got, &perfs[0])); err != nil {
		return err
	}
	if p.fwd, err = chooseAlgo("forward", perfs[:got], func(a int32, b *uint64) int32 { return l.fwdWork(dn.h, p.x, p.w, p.conv, p.y, a, b) }, l); err != nil {
		return err
	}
	if err := l.check("cudnnGetConvolutionBackwardDataAlgorithm_v7", l.bwdDataAlgos(dn.h, p.w, p.y, p.conv, p.x, 8, &got, &perfs[0])); err != nil {
		return err
	}
	if p.bwdData, err = chooseAlgo("backward data", perfs[:got], func(a int32, b *uint64) int32 { return l.bwdDataWork(dn.h, p.w, p.y, p.conv, p.x, a, b) }, l); err != nil {
		return err
	}
	if err := l.check("cudnnGetConvolutionBackwardFilterAlgorithm_v7", l.bwdFiltAlgos(dn.h, p.x, p.y, p.conv, p.w, 8, &got, &perfs[0])); err != nil {
		return err
	}
	p.bwdFilt, err = chooseAlgo("backward filter", perfs[:got], func(a int32, b *uint64) int32 { return l.bwdFiltWork(dn.h, p.x, p.y, p.conv, p.w, a, b) }, l)
	return err
}

// chooseAlgo takes cuDNN's heuristic ranking (fastest first) and returns
// the first algorithm that succeeded and whose workspace fits
// convWorkLimit, preferring deterministic ones so that a run repeats bit
// for bit (non-deterministic ones use atomic adds).
func chooseAlgo(dir string, perfs []algoPerf, work func(algo int32, bytes *uint64) int32, l *cudnnLib) (convAlgo, error) {
	var errs []error
	for _, wantDet := range []bool{true, false} {
		for _, pf := range perfs {
			if pf.Status != 0 || (pf.Determinism == cudnnDeterministic) != wantDet {
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
