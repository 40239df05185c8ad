package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxHeaderLen is the reference implementation's limit on the JSON header.
const maxHeaderLen = 100_000_000

// Tensor is one named tensor. Floating types are held in F32 and integer
// and bool types in I64, row-major; DType is the type in the file.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	F32   []float32
	I64   []int64
}

// Len returns the number of elements the shape holds.
func (t *Tensor) Len() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// File is a decoded safetensors file.
type File struct {
	Tensors  []Tensor // sorted by name
	Metadata map[string]string
}

// Get returns the tensor called name.
func (f *File) Get(name string) (*Tensor, bool) {
	i := sort.Search(len(f.Tensors), func(i int) bool { return f.Tensors[i].Name >= name })
	if i < len(f.Tensors) && f.Tensors[i].Name == name {
		return &f.Tensors[i], true
	}
	return nil, false
}

// ReadFile reads the safetensors file at path.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	out, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// Read decodes a safetensors file of size bytes from r.
func Read(r io.ReaderAt, size int64) (*File, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	out := &File{Metadata: h.meta, Tensors: make([]Tensor, 0, len(h.entries))}
	for _, e := range h.entries {
		t, err := readTensor(r, h.dataStart, e)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", e.name, err)
		}
		out.Tensors = append(out.Tensors, t)
	}
	sort.Slice(out.Tensors, func(i, j int) bool { return out.Tensors[i].Name < out.Tensors[j].Name })
	return out, nil
}

// entry is one tensor's header record after validation.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int64
}

type header struct {
	meta      map[string]string
	entries   []entry // sorted by begin
	dataStart int64
}

func readHeader(r io.ReaderAt, size int64) (*header, error) {
	var lenBuf [8]byte
	if size < 8 {
		return nil, fmt.Errorf("safetensors: file of %d bytes is shorter than the 8-byte header length", size)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeaderLen {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the limit %d", n, maxHeaderLen)
	}
	if int64(n) > size-8 {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the file size %d", n, size)
	}
	raw := make([]byte, n)
	if _, err := r.ReadAt(raw, 8); err != nil {
		return nil, fmt.Errorf("safetensors: read header: %w", err)
	}
	h, err := parseHeader(raw)
	if err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	h.dataStart = 8 + int64(n)
	if err := h.validateLayout(size - h.dataStart); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return h, nil
}

// rawEntry is a tensor's header record as written.
type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// parseHeader reads the JSON object token by token so that duplicate names,
// which a map would silently merge, are caught.
func parseHeader(raw []byte) (*header, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("does not start with '{'")
	}
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	h := &header{meta: map[string]string{}}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected %v where a tensor name belongs", tok)
		}
		if seen[name] {
			return nil, fmt.Errorf("name %q appears twice", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&h.meta); err != nil {
				return nil, fmt.Errorf("__metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		e, err := decodeEntry(dec, name)
		if err != nil {
			return nil, err
		}
		h.entries = append(h.entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	rest := raw[dec.InputOffset():]
	if len(strings.TrimRight(string(rest), " \t\r\n")) != 0 {
		return nil, fmt.Errorf("unexpected bytes after the JSON object")
	}
	return h, nil
}

func decodeEntry(dec *json.Decoder, name string) (entry, error) {
	var re rawEntry
	var msg json.RawMessage
	if err := dec.Decode(&msg); err != nil {
		return entry{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	strict := json.NewDecoder(bytes.NewReader(msg))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&re); err != nil {
		return entry{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	if re.DType == nil || re.Shape == nil || re.DataOffsets == nil {
		return entry{}, fmt.Errorf("tensor %q: dtype, shape and data_offsets are all required", name)
	}
	e := entry{name: name, dtype: DType(*re.DType)}
	if e.dtype.Size() == 0 {
		return entry{}, fmt.Errorf("tensor %q: dtype %q not supported", name, *re.DType)
	}
	if len(re.DataOffsets) != 2 {
		return entry{}, fmt.Errorf("tensor %q: data_offsets has %d values, want 2", name, len(re.DataOffsets))
	}
	if re.DataOffsets[0] > re.DataOffsets[1] || re.DataOffsets[1] > math.MaxInt64 {
		return entry{}, fmt.Errorf("tensor %q: data_offsets %v are not an increasing range", name, re.DataOffsets)
	}
	e.begin, e.end = int64(re.DataOffsets[0]), int64(re.DataOffsets[1])
	numel := int64(1)
	e.shape = make([]int, len(re.Shape))
	for i, s := range re.Shape {
		if s < 0 {
			return entry{}, fmt.Errorf("tensor %q: negative dimension %d", name, s)
		}
		if s != 0 && numel > math.MaxInt32/s {
			return entry{}, fmt.Errorf("tensor %q: shape %v too large", name, re.Shape)
		}
		numel *= s
		e.shape[i] = int(s)
	}
	if want := numel * int64(e.dtype.Size()); e.end-e.begin != want {
		return entry{}, fmt.Errorf("tensor %q: %s %v needs %d bytes, data_offsets %v give %d",
			name, e.dtype, re.Shape, want, re.DataOffsets, e.end-e.begin)
	}
	return e, nil
}

// validateLayout checks that the tensors tile [0, dataLen) exactly.
func (h *header) validateLayout(dataLen int64) error {
	sort.SliceStable(h.entries, func(i, j int) bool {
		a, b := h.entries[i], h.entries[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		return a.end < b.end
	})
	var pos int64
	prev := ""
	for _, e := range h.entries {
		switch {
		case e.begin < pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q", e.name, e.begin, e.end, prev)
		case e.begin > pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a gap at byte %d", e.name, e.begin, e.end, pos)
		case e.end > dataLen:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] run past the data section of %d bytes", e.name, e.begin, e.end, dataLen)
		}
		if e.end > e.begin {
			prev = e.name
		}
		pos = e.end
	}
	if pos != dataLen {
		return fmt.Errorf("data section has %d bytes but the tensors cover %d", dataLen, pos)
	}
	return nil
}

func readTensor(r io.ReaderAt, dataStart int64, e entry) (Tensor, error) {
	t := Tensor{Name: e.name, DType: e.dtype, Shape: e.shape}
	buf := make([]byte, e.end-e.begin)
	if _, err := r.ReadAt(buf, dataStart+e.begin); err != nil && !(errors.Is(err, io.EOF) && len(buf) == 0) {
		return t, fmt.Errorf("read data: %w", err)
	}
	n := len(buf) / e.dtype.Size()
	if e.dtype.IsFloat() {
		t.F32 = decodeFloats(e.dtype, buf, n)
		return t, nil
	}
	ints, err := decodeInts(e.dtype, buf, n)
	if err != nil {
		return t, err
	}
	t.I64 = ints
	return t, nil
}
