package pickle

import "fmt"

// ndarrayClass stands for numpy.ndarray, the subtype argument of
// _reconstruct.
type ndarrayClass struct{}

// numpyGlobal returns the numpy functions and classes that array pickles
// reference, under both numpy 1 (numpy.core) and numpy 2 (numpy._core)
// module names.
func numpyGlobal(module, name string) (any, bool) {
	switch module + "." + name {
	case "numpy.ndarray":
		return ndarrayClass{}, true
	case "numpy.dtype":
		return Func(makeDType), true
	case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
		return Func(reconstructArray), true
	case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
		return Func(makeScalar), true
	case "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer":
		return Func(fromBuffer), true
	}
	return nil, false
}

// makeDType implements numpy.dtype(code, align, copy); BUILD then sets the
// byte order.
func makeDType(args Tuple) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("numpy.dtype: no arguments")
	}
	code, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("numpy.dtype: code is a %s, not a str", typeName(args[0]))
	}
	return newDType(code)
}

// reconstructArray implements numpy.core.multiarray._reconstruct(ndarray,
// (0,), b"b"): an empty array that BUILD fills.
func reconstructArray(args Tuple) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("numpy _reconstruct: no arguments")
	}
	if _, ok := args[0].(ndarrayClass); !ok {
		return nil, fmt.Errorf("numpy _reconstruct: subtype %s not supported (only numpy.ndarray)", typeName(args[0]))
	}
	return &Array{}, nil
}

// makeScalar implements numpy.core.multiarray.scalar(dtype, bytes) and
// returns the plain Go number (float64, int64 or bool).
func makeScalar(args Tuple) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("numpy scalar: want 2 arguments, got %d", len(args))
	}
	dt, ok := args[0].(*DType)
	if !ok {
		return nil, fmt.Errorf("numpy scalar: dtype is a %s", typeName(args[0]))
	}
	raw, err := rawBytes(args[1])
	if err != nil {
		return nil, fmt.Errorf("numpy scalar: %w", err)
	}
	var a Array
	if err := a.fill(dt, nil, false, raw); err != nil {
		return nil, fmt.Errorf("numpy scalar: %w", err)
	}
	switch {
	case a.F32 != nil:
		return float64(a.F32[0]), nil
	case a.F64 != nil:
		return a.F64[0], nil
	case dt.Kind == 'S':
		return []byte(a.Str[0]), nil
	case a.Str != nil:
		return a.Str[0], nil
	case dt.Kind == 'b':
		return a.I64[0] != 0, nil
	}
	return a.I64[0], nil
}

// fromBuffer implements numpy.core.numeric._frombuffer(buf, dtype, shape,
// order), numpy's protocol 5 form for contiguous arrays.
func fromBuffer(args Tuple) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("numpy _frombuffer: want 4 arguments, got %d", len(args))
	}
	raw, err := rawBytes(args[0])
	if err != nil {
		return nil, fmt.Errorf("numpy _frombuffer: %w", err)
	}
	dt, ok := args[1].(*DType)
	if !ok {
		return nil, fmt.Errorf("numpy _frombuffer: dtype is a %s", typeName(args[1]))
	}
	shape, err := shapeOf(args[2])
	if err != nil {
		return nil, fmt.Errorf("numpy _frombuffer: %w", err)
	}
	order, _ := args[3].(string)
	if order != "C" && order != "F" {
		return nil, fmt.Errorf("numpy _frombuffer: order %q not supported", order)
	}
	a := &Array{}
	if err := a.fill(dt, shape, order == "F", raw); err != nil {
		return nil, fmt.Errorf("numpy _frombuffer: %w", err)
	}
	return a, nil
}
