package pickle

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Decode reads one pickle from r and returns its value. It stops at the
// STOP opcode but buffers, so r may have been read beyond it; to read
// several pickles (or a pickle then raw bytes) from one stream, pass a
// *bufio.Reader of at least 64 KiB, which is used as is and consumed exactly
// up to STOP.
func Decode(r io.Reader, opts Options) (any, error) {
	return DecodeContext(context.Background(), r, opts)
}

// DecodeContext is Decode that gives up when ctx is done, for large files
// (a COCO-sized proposals pickle holds hundreds of megabytes).
func DecodeContext(ctx context.Context, r io.Reader, opts Options) (any, error) {
	d := &decoder{
		ctx:  ctx,
		r:    bufio.NewReaderSize(r, 64<<10),
		opts: opts,
		memo: map[int64]any{},
	}
	return d.run()
}

// Unmarshal decodes the pickle held in data.
func Unmarshal(data []byte, opts Options) (any, error) {
	return Decode(bytes.NewReader(data), opts)
}

// list is a Python list while decoding: lists are mutable and shared
// through the memo, so they are built behind a pointer and turned into []any
// once the pickle is complete (see finalize).
type list struct {
	items []any
}

// decoder is the pickle machine's state.
type decoder struct {
	ctx   context.Context
	r     *bufio.Reader
	off   int64 // bytes consumed
	opOff int64 // offset of the opcode being run, for errors
	opts  Options
	stack []any
	marks []int // stack lengths at each MARK
	memo  map[int64]any
}

// errorf formats an error that carries the current opcode's offset.
func (d *decoder) errorf(format string, args ...any) error {
	return &Error{Offset: d.opOff, Err: fmt.Errorf(format, args...)}
}

// Error is a decode failure at a byte offset of the pickle.
type Error struct {
	Offset int64
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("pickle: %v at offset %d", e.Err, e.Offset)
}

func (e *Error) Unwrap() error { return e.Err }

// ctxCheckEvery is how many opcodes run between checks of the context.
const ctxCheckEvery = 1 << 12

func (d *decoder) run() (any, error) {
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := d.ctx.Err(); err != nil {
				return nil, &Error{Offset: d.off, Err: err}
			}
		}
		d.opOff = d.off
		op, err := d.readByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, d.errorf("unexpected end of data (no STOP opcode)")
			}
			return nil, d.errorf("read opcode: %w", err)
		}
		if op == opStop {
			v, err := d.pop()
			if err == nil {
				v, err = d.finalize(v)
			}
			if err != nil {
				return nil, &Error{Offset: d.opOff, Err: err}
			}
			return v, nil
		}
		if err := d.step(op); err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				return nil, err
			}
			return nil, &Error{Offset: d.opOff, Err: err}
		}
	}
}

// step runs one opcode.
func (d *decoder) step(op byte) error {
	switch op {
	case opProto:
		p, err := d.readByte()
		if err != nil {
			return err
		}
		if p > highestProtocol {
			return fmt.Errorf("unsupported protocol %d", p)
		}
	case opFrame:
		// A frame is a buffering hint; its contents are ordinary opcodes.
		_, err := d.readUint(8)
		return err
	case opMark:
		d.marks = append(d.marks, len(d.stack))
	case opPop:
		if len(d.marks) > 0 && len(d.stack) == d.marks[len(d.marks)-1] {
			_, err := d.popMark()
			return err
		}
		_, err := d.pop()
		return err
	case opPopMark:
		_, err := d.popMark()
		return err
	case opDup:
		v, err := d.top()
		if err != nil {
			return err
		}
		d.push(v)
	case opNone:
		d.push(nil)
	case opNewTrue:
		d.push(true)
	case opNewFalse:
		d.push(false)
	case opInt, opLong, opFloat:
		return d.textNumber(op)
	case opBinInt, opBinInt1, opBinInt2:
		return d.binInt(op)
	case opLong1, opLong4:
		return d.binLong(op)
	case opBinFloat:
		b, err := d.readN(8)
		if err != nil {
			return err
		}
		d.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opString, opUnicode, opBinString, opShortBinString, opBinUnicode,
		opShortBinUnicode, opBinUnicode8:
		return d.stringOp(op)
	case opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
		return d.bytesOp(op)
	case opNextBuffer:
		return fmt.Errorf("out-of-band buffers (NEXT_BUFFER) are not supported")
	case opReadOnlyBuffer:
		_, err := d.top()
		return err
	case opEmptyTuple:
		d.push(Tuple{})
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(d.stack)-d.floor() < n {
			return fmt.Errorf("stack underflow building a %d-tuple", n)
		}
		t := make(Tuple, n)
		copy(t, d.stack[len(d.stack)-n:])
		d.stack = d.stack[:len(d.stack)-n]
		d.push(t)
	case opTuple:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		d.push(Tuple(items))
	case opEmptyList:
		d.push(&list{})
	case opList:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		d.push(&list{items: items})
	case opAppend, opAppends:
		return d.appendOp(op)
	case opEmptyDict:
		d.push(NewDict())
	case opDict:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		dict := NewDict()
		if err := setPairs(dict, items); err != nil {
			return err
		}
		d.push(dict)
	case opSetItem, opSetItems:
		return d.setItemsOp(op)
	case opEmptySet:
		d.push(&Set{})
	case opAddItems:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		v, err := d.top()
		if err != nil {
			return err
		}
		s, ok := v.(*Set)
		if !ok {
			return fmt.Errorf("ADDITEMS to %s", typeName(v))
		}
		return addAll(s, items)
	case opFrozenSet:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		s := &Set{Frozen: true}
		if err := addAll(s, items); err != nil {
			return err
		}
		d.push(s)
	case opPut, opBinPut, opLongBinPut, opMemoize:
		return d.putOp(op)
	case opGet, opBinGet, opLongBinGet:
		return d.getOp(op)
	case opGlobal, opStackGlobal, opInst:
		return d.globalOp(op)
	case opReduce, opNewObj, opNewObjEx, opObj, opBuild:
		return d.callOp(op)
	case opPersID, opBinPersID:
		return d.persIDOp(op)
	case opExt1, opExt2, opExt4:
		return fmt.Errorf("extension registry codes (EXT1/EXT2/EXT4) are not supported")
	default:
		return fmt.Errorf("unknown opcode 0x%02x", op)
	}
	return nil
}

func (d *decoder) push(v any) { d.stack = append(d.stack, v) }

// floor is the stack length at the innermost MARK: opcodes other than the
// mark-consuming ones must not pop below it.
func (d *decoder) floor() int {
	if len(d.marks) == 0 {
		return 0
	}
	return d.marks[len(d.marks)-1]
}

func (d *decoder) pop() (any, error) {
	if len(d.stack) <= d.floor() {
		return nil, fmt.Errorf("stack underflow")
	}
	v := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	return v, nil
}

func (d *decoder) top() (any, error) {
	if len(d.stack) <= d.floor() {
		return nil, fmt.Errorf("stack underflow")
	}
	return d.stack[len(d.stack)-1], nil
}

// popMark removes and returns the items above the innermost MARK.
func (d *decoder) popMark() ([]any, error) {
	if len(d.marks) == 0 {
		return nil, fmt.Errorf("MARK missing")
	}
	m := d.marks[len(d.marks)-1]
	d.marks = d.marks[:len(d.marks)-1]
	items := make([]any, len(d.stack)-m)
	copy(items, d.stack[m:])
	d.stack = d.stack[:m]
	return items, nil
}

func (d *decoder) appendOp(op byte) error {
	var items []any
	if op == opAppends {
		var err error
		if items, err = d.popMark(); err != nil {
			return err
		}
	} else {
		v, err := d.pop()
		if err != nil {
			return err
		}
		items = []any{v}
	}
	target, err := d.top()
	if err != nil {
		return err
	}
	switch x := target.(type) {
	case *list:
		x.items = append(x.items, items...)
	case *Object:
		if items, err = d.finalizeSlice(items); err != nil {
			return err
		}
		x.List = append(x.List, items...)
	default:
		return fmt.Errorf("APPEND to %s", typeName(target))
	}
	return nil
}

func (d *decoder) setItemsOp(op byte) error {
	var items []any
	if op == opSetItems {
		var err error
		if items, err = d.popMark(); err != nil {
			return err
		}
	} else {
		v, err := d.pop()
		if err != nil {
			return err
		}
		k, err := d.pop()
		if err != nil {
			return err
		}
		items = []any{k, v}
	}
	target, err := d.top()
	if err != nil {
		return err
	}
	switch x := target.(type) {
	case *Dict:
		return setPairs(x, items)
	case *Object:
		if x.Items == nil {
			x.Items = NewDict()
		}
		return setPairs(x.Items, items)
	}
	return fmt.Errorf("SETITEM on %s", typeName(target))
}

// setPairs stores alternating keys and values.
func setPairs(dict *Dict, items []any) error {
	if len(items)%2 != 0 {
		return fmt.Errorf("odd number of items (%d) for a dict", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		if err := dict.Set(items[i], items[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func addAll(s *Set, items []any) error {
	for _, it := range items {
		if err := s.Add(it); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) putOp(op byte) error {
	var idx int64
	switch op {
	case opMemoize:
		idx = int64(len(d.memo))
	case opPut:
		line, err := d.readLine()
		if err != nil {
			return err
		}
		if idx, err = parseIndex(line); err != nil {
			return err
		}
	default:
		n := 1
		if op == opLongBinPut {
			n = 4
		}
		v, err := d.readUint(n)
		if err != nil {
			return err
		}
		idx = int64(v)
	}
	v, err := d.top()
	if err != nil {
		return err
	}
	d.memo[idx] = v
	return nil
}

func (d *decoder) getOp(op byte) error {
	var idx int64
	if op == opGet {
		line, err := d.readLine()
		if err != nil {
			return err
		}
		if idx, err = parseIndex(line); err != nil {
			return err
		}
	} else {
		n := 1
		if op == opLongBinGet {
			n = 4
		}
		v, err := d.readUint(n)
		if err != nil {
			return err
		}
		idx = int64(v)
	}
	v, ok := d.memo[idx]
	if !ok {
		return fmt.Errorf("memo key %d missing", idx)
	}
	d.push(v)
	return nil
}

func (d *decoder) persIDOp(op byte) error {
	var pid any
	if op == opPersID {
		line, err := d.readLine()
		if err != nil {
			return err
		}
		pid = string(line)
	} else {
		v, err := d.pop()
		if err != nil {
			return err
		}
		if pid, err = d.finalize(v); err != nil {
			return err
		}
	}
	if d.opts.PersistentLoad == nil {
		return fmt.Errorf("persistent id found but no PersistentLoad hook given")
	}
	v, err := d.opts.PersistentLoad(pid)
	if err != nil {
		return fmt.Errorf("persistent load: %w", err)
	}
	d.push(v)
	return nil
}
