package tensor

import (
	"math"
)

// Binary implements Device.
func (d *CPU) Binary(op BinaryOp, a, b, y Buffer) {
	as, bs, ys := f(a), f(b), f(y)
	checkLen("binary", len(as), len(bs))
	checkLen("binary", len(as), len(ys))
	d.parallel(len(as), elemGrain, func(lo, hi int) {
		binaryRange(op, as[lo:hi], bs[lo:hi], ys[lo:hi])
	})
}

func binaryRange(op BinaryOp, as, bs, ys []float32) {
	bs, ys = bs[:len(as)], ys[:len(as)]
	switch op {
	case BinaryAdd:
		for i := range as {
			ys[i] = as[i] + bs[i]
		}
	case BinarySub:
		for i := range as {
			ys[i] = as[i] - bs[i]
		}
	case BinaryMul:
		for i := range as {
			ys[i] = as[i] * bs[i]
		}
	case BinaryDiv:
		for i := range as {
			ys[i] = as[i] / bs[i]
		}
	case BinaryBCEWithLogits:
		for i := range as {
			ys[i] = bceWithLogits(as[i], bs[i])
		}
	default:
		Panicf("tensor: unknown binary op %d", op)
	}
}

// binaryScalar is binaryRange for one element (the broadcast path).
func binaryScalar(op BinaryOp, a, b float32) float32 {
	switch op {
	case BinaryAdd:
		return a + b
	case BinarySub:
		return a - b
	case BinaryMul:
		return a * b
	case BinaryDiv:
		return a / b
	case BinaryBCEWithLogits:
		return bceWithLogits(a, b)
	}
	Panicf("tensor: unknown binary op %d", op)
	return 0
}

// bceWithLogits is the numerically stable form PyTorch uses:
// max(x,0) − x·t + log(1+exp(−|x|)).
func bceWithLogits(x, t float32) float32 {
	return max(x, 0) - x*t + float32(math.Log1p(math.Exp(-float64(abs32(x)))))
}

// BinaryBackward implements Device.
func (d *CPU) BinaryBackward(op BinaryOp, a, b, dy, da, db Buffer) {
	as, bs, dys, das, dbs := f(a), f(b), f(dy), f(da), f(db)
	if op == BinaryBCEWithLogits && dbs != nil {
		Panicf("tensor: BCEWithLogits has no target gradient")
	}
	for i, g := range dys {
		switch op {
		case BinaryAdd:
			setIf(das, i, g)
			setIf(dbs, i, g)
		case BinarySub:
			setIf(das, i, g)
			setIf(dbs, i, -g)
		case BinaryMul:
			setIf(das, i, g*bs[i])
			setIf(dbs, i, g*as[i])
		case BinaryDiv:
			setIf(das, i, g/bs[i])
			setIf(dbs, i, -g*as[i]/(bs[i]*bs[i]))
		case BinaryBCEWithLogits:
			setIf(das, i, g*(sigmoid32(as[i])-bs[i]))
		default:
			Panicf("tensor: unknown binary op %d", op)
		}
	}
}

func setIf(s []float32, i int, v float32) {
	if s != nil {
		s[i] = v
	}
}

// BroadcastBinary implements Device.
func (d *CPU) BroadcastBinary(op BinaryOp, shape []int, a Buffer, aStrides []int, b Buffer, bStrides []int, y Buffer) {
	as, bs, ys := f(a), f(b), f(y)
	checkLen("broadcast binary", numel(shape), len(ys))
	if len(shape) == 0 {
		ys[0] = binaryScalar(op, as[0], bs[0])
		return
	}
	last := len(shape) - 1
	inner := shape[last]
	rows := len(ys) / max(inner, 1)
	sa, sb := aStrides[last], bStrides[last]
	d.parallel(rows, max(1, elemGrain/max(inner, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			oa, ob := stridedOffset(shape[:last], aStrides, r), stridedOffset(shape[:last], bStrides, r)
			yr := ys[r*inner : (r+1)*inner]
			for j := range yr {
				yr[j] = binaryScalar(op, as[oa+j*sa], bs[ob+j*sb])
			}
		}
	})
}

// stridedOffset maps row r of the leading dimensions shape to an element
// offset using strides.
func stridedOffset(shape, strides []int, r int) int {
	off := 0
	for i := len(shape) - 1; i >= 0; i-- {
		off += (r % shape[i]) * strides[i]
		r /= shape[i]
	}
	return off
}

// StridedCopy implements Device.
func (d *CPU) StridedCopy(shape []int, src Buffer, srcStrides []int, dst Buffer, dstStrides []int, accumulate bool) {
	ss, ds := f(src), f(dst)
	if len(shape) == 0 {
		if accumulate {
			ds[0] += ss[0]
		} else {
			ds[0] = ss[0]
		}
		return
	}
	last := len(shape) - 1
	inner := shape[last]
	rows := numel(shape[:last])
	sStep, dStep := srcStrides[last], dstStrides[last]
	d.parallel(rows, max(1, elemGrain/max(inner, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			so, do := stridedOffset(shape[:last], srcStrides, r), stridedOffset(shape[:last], dstStrides, r)
			switch {
			case sStep == 1 && dStep == 1 && !accumulate:
				copy(ds[do:do+inner], ss[so:so+inner])
			case accumulate:
				for j := 0; j < inner; j++ {
					ds[do+j*dStep] += ss[so+j*sStep]
				}
			default:
				for j := 0; j < inner; j++ {
					ds[do+j*dStep] = ss[so+j*sStep]
				}
			}
		}
	})
}
