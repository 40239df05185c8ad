package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
)

// WriteTensor is one float32 tensor of a state dict to write.
type WriteTensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Write writes tensors as torch.save(state_dict) does (the zip format of
// PyTorch >= 1.6, little endian): data.pkl is a pickle (protocol 2) of an
// OrderedDict in the given order, each tensor rebuilt by
// torch._utils._rebuild_tensor_v2 from its own FloatStorage record. torch.load
// reads it, so does Load. archive names the records' folder.
func Write(w io.Writer, archive string, tensors []WriteTensor) error {
	var p pickler
	p.op(0x80, 2) // PROTO 2
	p.global("collections", "OrderedDict")
	p.op(')', 'R') // EMPTY_TUPLE, REDUCE
	p.op('(')      // MARK
	for i, t := range tensors {
		if n := numel(t.Shape); n != len(t.Data) {
			return fmt.Errorf("pth: write %q: shape %v holds %d values, got %d", t.Name, t.Shape, n, len(t.Data))
		}
		p.str(t.Name)
		p.tensor(fmt.Sprint(i), t.Shape)
	}
	p.op('u', '.') // SETITEMS, STOP
	zw := zip.NewWriter(w)
	put := func(name string, data []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: archive + "/" + name, Method: zip.Store})
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	if err := put("data.pkl", p.Bytes()); err != nil {
		return fmt.Errorf("pth: write: %w", err)
	}
	if err := put("byteorder", []byte("little")); err != nil {
		return fmt.Errorf("pth: write: %w", err)
	}
	for i, t := range tensors {
		raw := make([]byte, 4*len(t.Data))
		for j, v := range t.Data {
			binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(v))
		}
		if err := put(fmt.Sprintf("data/%d", i), raw); err != nil {
			return fmt.Errorf("pth: write %q: %w", t.Name, err)
		}
	}
	if err := put("version", []byte("3\n")); err != nil {
		return fmt.Errorf("pth: write: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pth: write: %w", err)
	}
	return nil
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// pickler writes the few pickle opcodes a state dict needs.
type pickler struct{ bytes.Buffer }

func (p *pickler) op(b ...byte) { p.Write(b) }

func (p *pickler) global(module, name string) {
	p.WriteByte('c')
	p.WriteString(module + "\n" + name + "\n")
}

func (p *pickler) str(s string) {
	p.WriteByte('X') // BINUNICODE
	_ = binary.Write(p, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
}

func (p *pickler) int(v int) {
	p.WriteByte('J') // BININT
	_ = binary.Write(p, binary.LittleEndian, int32(v))
}

func (p *pickler) ints(vs []int) {
	p.op('(')
	for _, v := range vs {
		p.int(v)
	}
	p.op('t')
}

// tensor writes _rebuild_tensor_v2(storage, 0, shape, contiguous strides,
// False, OrderedDict()), the storage a persistent id
// ("storage", torch.FloatStorage, key, "cpu", numel).
func (p *pickler) tensor(key string, shape []int) {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op('(')
	p.op('(')
	p.str("storage")
	p.global("torch", "FloatStorage")
	p.str(key)
	p.str("cpu")
	p.int(numel(shape))
	p.op('t', 'Q') // TUPLE, BINPERSID
	p.int(0)
	p.ints(shape)
	p.ints(strides(shape))
	p.op(0x89) // NEWFALSE
	p.global("collections", "OrderedDict")
	p.op(')', 'R')
	p.op('t', 'R')
}

func strides(shape []int) []int {
	out := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		out[i] = s
		s *= shape[i]
	}
	return slices.Clip(out)
}
