package pth

import (
	"fmt"
	"math"

	"github.com/detflow/detflow/pickle"
)

// rebuildTensor implements torch._utils._rebuild_tensor_v2(storage,
// storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
// and the older _rebuild_tensor(storage, storage_offset, size, stride):
// the tensor is the strided view of the storage, copied out in row-major
// order once the storage's bytes are in (the legacy format stores them
// after the pickle), see loader.materialiseAll.
func (l *loader) rebuildTensor(args pickle.Tuple) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: want at least 4 arguments, got %d", len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: storage argument is a %T", args[0])
	}
	offset, ok := args[1].(int64)
	if !ok || offset < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: storage offset is not a non-negative int (%T)", args[1])
	}
	size, err := intTuple(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := intTuple(args[3], "stride")
	if err != nil {
		return nil, err
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size %v and stride %v differ in rank", size, stride)
	}
	t := &Tensor{DType: st.dtype, Shape: make([]int, len(size))}
	for i, s := range size {
		t.Shape[i] = int(s)
	}
	l.pending = append(l.pending, pendingTensor{t: t, st: st, offset: offset, size: size, stride: stride})
	return t, nil
}

// rebuildParameter implements torch._utils._rebuild_parameter(data,
// requires_grad, backward_hooks) and _rebuild_parameter_with_state: an
// nn.Parameter is its data here.
func rebuildParameter(args pickle.Tuple) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter: no arguments")
	}
	t, ok := args[0].(*Tensor)
	if !ok {
		return nil, fmt.Errorf("_rebuild_parameter: data is a %T, not a tensor", args[0])
	}
	return t, nil
}

// rebuildFromType implements torch._tensor._rebuild_from_type_v2(func,
// new_type, args, state) for plain tensors and parameters: call func(*args).
func rebuildFromType(args pickle.Tuple) (any, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("_rebuild_from_type_v2: want 3 or 4 arguments, got %d", len(args))
	}
	f, ok := args[0].(pickle.Callable)
	if !ok {
		return nil, fmt.Errorf("_rebuild_from_type_v2: %T is not a supported rebuild function", args[0])
	}
	if _, ok := args[1].(tensorClass); !ok {
		return nil, fmt.Errorf("_rebuild_from_type_v2: tensor subclass %s not supported", describe(args[1]))
	}
	inner, ok := args[2].(pickle.Tuple)
	if !ok {
		return nil, fmt.Errorf("_rebuild_from_type_v2: arguments are a %T", args[2])
	}
	return f.Call(inner)
}

func intTuple(v any, what string) ([]int64, error) {
	t, ok := v.(pickle.Tuple)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %s is a %T, not a tuple", what, v)
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok || n < 0 || n > math.MaxInt32 {
			return nil, fmt.Errorf("_rebuild_tensor_v2: %s %d is not a valid value", what, i)
		}
		out[i] = n
	}
	return out, nil
}

// maxBroadcast bounds the elements of a tensor that overlaps itself in its
// storage (an expand, stride 0), which torch.save stores compactly: without
// a bound a tiny file could ask for gigabytes.
const maxBroadcast = 1 << 24

// materialise copies the strided view (offset, size, stride) of st into a
// row-major tensor, after checking that every index stays in the storage.
func materialise(st *storage, offset int64, size, stride []int64) (*Tensor, error) {
	numel := int64(1)
	last := offset
	for i := range size {
		if size[i] != 0 && numel > math.MaxInt32/size[i] {
			return nil, fmt.Errorf("tensor size %v too large", size)
		}
		numel *= size[i]
		if size[i] > 0 {
			last += (size[i] - 1) * stride[i]
		}
	}
	t := &Tensor{DType: st.dtype, Shape: make([]int, len(size))}
	for i, s := range size {
		t.Shape[i] = int(s)
	}
	if numel > int64(st.len()) && numel > maxBroadcast {
		return nil, fmt.Errorf("tensor of size %v, stride %v repeats storage %q (%d elements) into %d elements, more than the %d this importer materialises",
			size, stride, st.key, st.len(), numel, maxBroadcast)
	}
	if numel > 0 && last >= int64(st.len()) {
		return nil, fmt.Errorf("tensor of size %v, stride %v at offset %d reaches element %d of storage %q, which holds %d",
			size, stride, offset, last, st.key, st.len())
	}
	if numel == 0 {
		if isFloatDType(st.dtype) {
			t.F32 = []float32{}
		} else {
			t.I64 = []int64{}
		}
		return t, nil
	}
	if contiguous(size, stride) {
		// The common case: a whole parameter, copied in one go.
		if isFloatDType(st.dtype) {
			t.F32 = make([]float32, numel)
			copy(t.F32, st.f32[offset:offset+numel])
		} else {
			t.I64 = make([]int64, numel)
			copy(t.I64, st.i64[offset:offset+numel])
		}
		return t, nil
	}
	idx := stridedIndex(offset, size, stride, int(numel))
	if isFloatDType(st.dtype) {
		t.F32 = make([]float32, numel)
		for i, j := range idx {
			t.F32[i] = st.f32[j]
		}
		return t, nil
	}
	t.I64 = make([]int64, numel)
	for i, j := range idx {
		t.I64[i] = st.i64[j]
	}
	return t, nil
}

// contiguous reports whether stride is the row-major layout of size
// (dimensions of size 1 may have any stride).
func contiguous(size, stride []int64) bool {
	want := int64(1)
	for d := len(size) - 1; d >= 0; d-- {
		if size[d] != 1 && stride[d] != want {
			return false
		}
		want *= size[d]
	}
	return true
}

// stridedIndex lists the storage index of each element in row-major order.
func stridedIndex(offset int64, size, stride []int64, numel int) []int64 {
	out := make([]int64, numel)
	pos := make([]int64, len(size))
	cur := offset
	for k := 0; k < numel; k++ {
		out[k] = cur
		for d := len(size) - 1; d >= 0; d-- {
			pos[d]++
			cur += stride[d]
			if pos[d] < size[d] {
				break
			}
			cur -= pos[d] * stride[d]
			pos[d] = 0
		}
	}
	return out
}

// describe names a decoded value's type for messages.
func describe(v any) string {
	if o, ok := v.(*pickle.Object); ok {
		return o.Class.String()
	}
	if c, ok := v.(pickle.Class); ok {
		return pickle.Global(c).String()
	}
	return fmt.Sprintf("%T", v)
}
