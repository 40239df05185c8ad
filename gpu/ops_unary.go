package gpu

// UnaryOp selects the function of Unary and UnaryBwd. The values are those
// of tensor.UnaryOp (gpu/tensordev checks that they stay equal).
type UnaryOp int32

// The unary operations (formulas as in tensor.UnaryOp).
const (
	UnaryRelu      UnaryOp = iota // max(x, 0)
	UnarySigmoid                  // 1/(1+exp(-x))
	UnaryExp                      // exp(x)
	UnaryLog                      // log(x)
	UnaryNeg                      // -x
	UnaryAbs                      // |x|
	UnarySqrt                     // sqrt(x)
	UnaryRsqrt                    // 1/sqrt(x+p)
	UnaryScale                    // p*x
	UnaryAddScalar                // x+p
	UnarySquare                   // x*x
	UnarySmoothL1                 // 0.5*x*x/p if |x| < p else |x|-0.5*p
	UnaryTanh                     // tanh(x)
	numUnaryOps
)

// BinaryOp selects the function of Binary and BinaryBwd (values of
// tensor.BinaryOp).
type BinaryOp int32

// The binary operations.
const (
	BinaryAdd           BinaryOp = iota // a+b
	BinarySub                           // a-b
	BinaryMul                           // a*b
	BinaryDiv                           // a/b
	BinaryBCEWithLogits                 // max(a,0) - a*b + log(1+exp(-|a|))
	numBinaryOps
)

// Unary computes y = op(x; p) over n elements; y may be x.
func (d *Device) Unary(op UnaryOp, p float32, y, x DevPtr, n int) error {
	return d.launch1D(kUnary, n, y, x, int32(op), p, i32(n))
}

// UnaryBwd computes dx = dy·op'(x; p); x or y may be 0 when op does not
// read it (see the table in unary.cu).
func (d *Device) UnaryBwd(op UnaryOp, p float32, dx, x, y, dy DevPtr, n int) error {
	return d.launch1D(kUnaryBwd, n, dx, x, y, dy, int32(op), p, i32(n))
}

// Binary computes y = op(a, b) over n elements; y may alias a or b.
func (d *Device) Binary(op BinaryOp, y, a, b DevPtr, n int) error {
	return d.launch1D(kBinary, n, y, a, b, int32(op), i32(n))
}

// BinaryBwd computes da and db (either may be 0) for y = op(a, b).
func (d *Device) BinaryBwd(op BinaryOp, da, db, a, b, dy DevPtr, n int) error {
	return d.launch1D(kBinaryBwd, n, da, db, a, b, dy, int32(op), i32(n))
}

// Axpby computes y = alpha·x + beta·y; beta == 0 means y is not read.
func (d *Device) Axpby(alpha float32, x DevPtr, beta float32, y DevPtr, n int) error {
	return d.launch1D(kAxpby, n, y, x, alpha, beta, i32(n))
}
