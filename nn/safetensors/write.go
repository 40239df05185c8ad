package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
)

// Write writes ts and meta as a safetensors file. F32 and F64 tensors take
// their data from Tensor.F32; I64, I32, U8 and BOOL from Tensor.I64 (values
// must fit the type). The output is deterministic: tensors are laid out by
// element size, largest first (so every tensor stays aligned to its element
// size), then by name, and the header lists them in that order after
// __metadata__.
func Write(w io.Writer, ts []Tensor, meta map[string]string) error {
	order, err := layout(ts)
	if err != nil {
		return err
	}
	hdr, err := encodeHeader(order, meta)
	if err != nil {
		return err
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors: write header length: %w", err)
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("safetensors: write header: %w", err)
	}
	for _, t := range order {
		b, err := encodeData(t)
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
		}
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("safetensors: write tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// layout checks the tensors and returns them in file order.
func layout(ts []Tensor) ([]*Tensor, error) {
	order := make([]*Tensor, len(ts))
	seen := map[string]bool{}
	for i := range ts {
		t := &ts[i]
		if t.Name == "" || t.Name == "__metadata__" {
			return nil, fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("safetensors: tensor name %q given twice", t.Name)
		}
		seen[t.Name] = true
		if err := checkWritable(t); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
		}
		order[i] = t
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.DType.Size() != b.DType.Size() {
			return a.DType.Size() > b.DType.Size()
		}
		return a.Name < b.Name
	})
	return order, nil
}

func checkWritable(t *Tensor) error {
	for _, s := range t.Shape {
		if s < 0 {
			return fmt.Errorf("negative dimension in shape %v", t.Shape)
		}
	}
	n := t.Len()
	switch t.DType {
	case F32, F64:
		if len(t.F32) != n {
			return fmt.Errorf("shape %v holds %d elements but F32 has %d", t.Shape, n, len(t.F32))
		}
	case I64, I32, U8, BOOL:
		if len(t.I64) != n {
			return fmt.Errorf("shape %v holds %d elements but I64 has %d", t.Shape, n, len(t.I64))
		}
	default:
		return fmt.Errorf("writing dtype %q is not supported (F32, F64, I64, I32, U8, BOOL)", t.DType)
	}
	return nil
}

// encodeHeader builds the JSON header, padded with spaces so the data
// section starts at a multiple of 8 bytes.
func encodeHeader(order []*Tensor, meta map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	if len(meta) > 0 {
		m, err := json.Marshal(meta) // map keys come out sorted
		if err != nil {
			return nil, fmt.Errorf("safetensors: encode metadata: %w", err)
		}
		b.WriteString(`"__metadata__":`)
		b.Write(m)
		first = false
	}
	var off int64
	for _, t := range order {
		size := int64(t.Len()) * int64(t.DType.Size())
		name, err := json.Marshal(t.Name)
		if err != nil {
			return nil, err
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		sh, err := json.Marshal(shape)
		if err != nil {
			return nil, err
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, `%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, name, t.DType, sh, off, off+size)
		off += size
	}
	b.WriteByte('}')
	for (8+b.Len())%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}

// encodeData returns a tensor's little-endian bytes.
func encodeData(t *Tensor) ([]byte, error) {
	n := t.Len()
	out := make([]byte, n*t.DType.Size())
	le := binary.LittleEndian
	switch t.DType {
	case F32:
		for i, v := range t.F32[:n] {
			le.PutUint32(out[4*i:], math.Float32bits(v))
		}
	case F64:
		for i, v := range t.F32[:n] {
			le.PutUint64(out[8*i:], math.Float64bits(float64(v)))
		}
	case I64:
		for i, v := range t.I64[:n] {
			le.PutUint64(out[8*i:], uint64(v))
		}
	case I32:
		for i, v := range t.I64[:n] {
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, fmt.Errorf("element %d = %d does not fit I32", i, v)
			}
			le.PutUint32(out[4*i:], uint32(int32(v)))
		}
	case U8, BOOL:
		for i, v := range t.I64[:n] {
			if v < 0 || v > 255 || (t.DType == BOOL && v > 1) {
				return nil, fmt.Errorf("element %d = %d does not fit %s", i, v, t.DType)
			}
			out[i] = byte(v)
		}
	}
	return out, nil
}
