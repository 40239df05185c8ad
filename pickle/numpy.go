package pickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/detflow/detflow/float16"
)

// Array is a numpy.ndarray of numbers, booleans or fixed-width strings.
// The data is always in row-major (C) order, whatever order it was pickled
// in; Fortran records the original layout. Exactly one of F32, F64, I64 and
// Str holds the data:
//
//	float16, float32               F32
//	float64                        F64
//	bool, int8..int64, uint8..64   I64 (uint64 values above MaxInt64 are an error)
//	str (<U), bytes (S)            Str (trailing NULs removed, as numpy does)
type Array struct {
	DType   string // numpy name: "float32", "int64", "bool", "str160", ...
	Shape   []int
	Fortran bool
	F32     []float32
	F64     []float64
	I64     []int64
	Str     []string
}

// Len returns the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, s := range a.Shape {
		n *= s
	}
	return n
}

// Float64s returns the elements of a numeric array as float64, converting
// if needed.
func (a *Array) Float64s() []float64 {
	switch {
	case a.F64 != nil:
		return a.F64
	case a.F32 != nil:
		out := make([]float64, len(a.F32))
		for i, v := range a.F32 {
			out[i] = float64(v)
		}
		return out
	}
	out := make([]float64, len(a.I64))
	for i, v := range a.I64 {
		out[i] = float64(v)
	}
	return out
}

// Float32s returns the elements of a numeric array as float32, converting
// if needed.
func (a *Array) Float32s() []float32 {
	switch {
	case a.F32 != nil:
		return a.F32
	case a.F64 != nil:
		out := make([]float32, len(a.F64))
		for i, v := range a.F64 {
			out[i] = float32(v)
		}
		return out
	}
	out := make([]float32, len(a.I64))
	for i, v := range a.I64 {
		out[i] = float32(v)
	}
	return out
}

// SetState implements ndarray.__setstate__: (version, shape, dtype,
// is_fortran, rawdata), or the older form without the version.
func (a *Array) SetState(state any) error {
	t, ok := state.(Tuple)
	if !ok {
		return fmt.Errorf("ndarray state is a %s, not a tuple", typeName(state))
	}
	if len(t) == 5 {
		t = t[1:]
	}
	if len(t) != 4 {
		return fmt.Errorf("ndarray state has %d items, want 4 or 5", len(t))
	}
	shape, err := shapeOf(t[0])
	if err != nil {
		return fmt.Errorf("ndarray state: %w", err)
	}
	dt, ok := t[1].(*DType)
	if !ok {
		return fmt.Errorf("ndarray state: dtype is a %s", typeName(t[1]))
	}
	fortran, ok := t[2].(bool)
	if !ok {
		return fmt.Errorf("ndarray state: is_fortran is a %s, not a bool", typeName(t[2]))
	}
	raw, err := rawBytes(t[3])
	if err != nil {
		return fmt.Errorf("ndarray state: %w", err)
	}
	return a.fill(dt, shape, fortran, raw)
}

// fill decodes raw into a according to dt and the layout.
func (a *Array) fill(dt *DType, shape []int, fortran bool, raw []byte) error {
	n, err := elementCount(shape)
	if err != nil {
		return err
	}
	if dt.ItemSize == 0 || len(raw) != n*dt.ItemSize {
		return fmt.Errorf("numpy array of %v %s needs %d bytes, got %d", shape, dt.Name, n*dt.ItemSize, len(raw))
	}
	*a = Array{DType: dt.Name, Shape: shape, Fortran: fortran}
	if err := dt.decode(a, raw, n); err != nil {
		return err
	}
	if fortran && len(shape) > 1 {
		a.toRowMajor()
	}
	return nil
}

// toRowMajor reorders Fortran-ordered data into row-major order.
func (a *Array) toRowMajor() {
	perm := fortranToC(a.Shape)
	switch {
	case a.F32 != nil:
		a.F32 = permute(a.F32, perm)
	case a.F64 != nil:
		a.F64 = permute(a.F64, perm)
	case a.Str != nil:
		a.Str = permute(a.Str, perm)
	default:
		a.I64 = permute(a.I64, perm)
	}
}

// fortranToC returns, for each row-major index, the column-major index of
// the same element.
func fortranToC(shape []int) []int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	fstride := make([]int, len(shape))
	st := 1
	for i := range shape {
		fstride[i] = st
		st *= shape[i]
	}
	out := make([]int, n)
	idx := make([]int, len(shape))
	for c := 0; c < n; c++ {
		f := 0
		for i, v := range idx {
			f += v * fstride[i]
		}
		out[c] = f
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

func permute[T any](src []T, perm []int) []T {
	out := make([]T, len(src))
	for i, p := range perm {
		out[i] = src[p]
	}
	return out
}

func shapeOf(v any) ([]int, error) {
	t, ok := v.(Tuple)
	if !ok {
		if l, isList := v.([]any); isList {
			t = Tuple(l)
		} else {
			return nil, fmt.Errorf("shape is a %s, not a tuple", typeName(v))
		}
	}
	shape := make([]int, len(t))
	for i, d := range t {
		n, ok := d.(int64)
		if !ok || n < 0 || n > math.MaxInt32 {
			return nil, fmt.Errorf("shape dimension %d is not a valid size", i)
		}
		shape[i] = int(n)
	}
	return shape, nil
}

// elementCount multiplies the dimensions, refusing overflow.
func elementCount(shape []int) (int, error) {
	n := 1
	for _, s := range shape {
		if s != 0 && n > math.MaxInt32/s {
			return 0, fmt.Errorf("numpy array shape %v too large", shape)
		}
		n *= s
	}
	return n, nil
}

// rawBytes accepts the forms array data takes in pickles: bytes, a bytearray
// and, from Python 2 or latin-1 decoding, a str of raw bytes.
func rawBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	case []any:
		return nil, fmt.Errorf("object arrays are not supported")
	}
	return nil, fmt.Errorf("array data is a %s, not bytes", typeName(v))
}

// DType is a numpy.dtype for a number, boolean or fixed-width string type.
type DType struct {
	Kind      byte // 'f' float, 'i' signed, 'u' unsigned, 'b' bool, 'U' str, 'S' bytes
	ItemSize  int
	BigEndian bool
	Name      string // "float32", "uint8", "bool", "str160", ...
}

// newDType parses a dtype code such as "f4", "<i8" or "b1".
func newDType(code string) (*DType, error) {
	dt := &DType{}
	if code != "" && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=') {
		dt.BigEndian = code[0] == '>'
		code = code[1:]
	}
	if len(code) < 2 {
		return nil, fmt.Errorf("numpy dtype %q not supported", code)
	}
	size, err := strconv.Atoi(code[1:])
	if err != nil {
		return nil, fmt.Errorf("numpy dtype %q not supported", code)
	}
	dt.Kind, dt.ItemSize = code[0], size
	switch {
	case dt.Kind == 'U' && size > 0 && size <= 1<<20:
		// The count is in characters, stored as UCS-4.
		dt.ItemSize = 4 * size
		dt.Name = "str" + strconv.Itoa(32*size)
	case dt.Kind == 'S' && size > 0 && size <= 1<<20:
		dt.Name = "bytes" + strconv.Itoa(8*size)
	case dt.Kind == 'f' && (size == 2 || size == 4 || size == 8):
		dt.Name = "float" + strconv.Itoa(8*size)
	case dt.Kind == 'i' && (size == 1 || size == 2 || size == 4 || size == 8):
		dt.Name = "int" + strconv.Itoa(8*size)
	case dt.Kind == 'u' && (size == 1 || size == 2 || size == 4 || size == 8):
		dt.Name = "uint" + strconv.Itoa(8*size)
	case dt.Kind == 'b' && size == 1:
		dt.Name = "bool"
	default:
		return nil, fmt.Errorf("numpy dtype %q not supported (only numbers, bools and strings)", code)
	}
	return dt, nil
}

// SetState implements dtype.__setstate__: (version, byteorder, subarray,
// names, fields, elsize, alignment, flags[, metadata]).
func (dt *DType) SetState(state any) error {
	t, ok := state.(Tuple)
	if !ok || len(t) < 2 {
		return fmt.Errorf("numpy dtype state is not a tuple of at least 2 items")
	}
	order, ok := t[1].(string)
	if !ok {
		return fmt.Errorf("numpy dtype byte order is a %s", typeName(t[1]))
	}
	switch order {
	case ">":
		dt.BigEndian = true
	case "<", "|", "=":
		dt.BigEndian = false
	default:
		return fmt.Errorf("numpy dtype byte order %q not supported", order)
	}
	if len(t) >= 4 && (t[2] != nil || t[3] != nil) {
		return fmt.Errorf("structured or subarray numpy dtypes are not supported")
	}
	return nil
}

func (dt *DType) order() binary.ByteOrder {
	if dt.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// decode converts n raw elements into the matching slice of a.
func (dt *DType) decode(a *Array, raw []byte, n int) error {
	bo := dt.order()
	sz := dt.ItemSize
	switch dt.Kind {
	case 'U', 'S':
		a.Str = make([]string, n)
		for i := range a.Str {
			a.Str[i] = dt.text(raw[i*sz : (i+1)*sz])
		}
		return nil
	case 'f':
		switch sz {
		case 2:
			a.F32 = make([]float32, n)
			for i := range a.F32 {
				a.F32[i] = float16.ToFloat32(bo.Uint16(raw[i*2:]))
			}
		case 4:
			a.F32 = make([]float32, n)
			for i := range a.F32 {
				a.F32[i] = math.Float32frombits(bo.Uint32(raw[i*4:]))
			}
		case 8:
			a.F64 = make([]float64, n)
			for i := range a.F64 {
				a.F64[i] = math.Float64frombits(bo.Uint64(raw[i*8:]))
			}
		}
		return nil
	}
	a.I64 = make([]int64, n)
	for i := range a.I64 {
		v, err := dt.integer(raw[i*sz : (i+1)*sz])
		if err != nil {
			return err
		}
		a.I64[i] = v
	}
	return nil
}

// text decodes one fixed-width string element without its trailing NULs.
func (dt *DType) text(b []byte) string {
	if dt.Kind == 'S' {
		return strings.TrimRight(string(b), "\x00")
	}
	var sb strings.Builder
	bo := dt.order()
	for i := 0; i+4 <= len(b); i += 4 {
		r := rune(bo.Uint32(b[i:]))
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
	}
	return strings.TrimRight(sb.String(), "\x00")
}

// integer decodes one integer or bool element.
func (dt *DType) integer(b []byte) (int64, error) {
	bo := dt.order()
	signed := dt.Kind == 'i'
	switch len(b) {
	case 1:
		if signed {
			return int64(int8(b[0])), nil
		}
		if dt.Kind == 'b' && b[0] > 1 {
			return 1, nil
		}
		return int64(b[0]), nil
	case 2:
		if signed {
			return int64(int16(bo.Uint16(b))), nil
		}
		return int64(bo.Uint16(b)), nil
	case 4:
		if signed {
			return int64(int32(bo.Uint32(b))), nil
		}
		return int64(bo.Uint32(b)), nil
	}
	u := bo.Uint64(b)
	if !signed && u > math.MaxInt64 {
		return 0, fmt.Errorf("uint64 value %d does not fit in int64", u)
	}
	return int64(u), nil
}
