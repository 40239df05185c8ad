package pickle

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/big"
	"reflect"
	"strings"
	"testing"
)

// TestOpcodes covers opcodes that Python 3's pickler no longer writes
// (Python 2 strings, INT 01, INST, OBJ) and the hook paths, with
// hand-assembled pickles.
func TestOpcodes(t *testing.T) {
	classes := func(module, name string) (any, bool) {
		if module == "mod" {
			return Class{Module: module, Name: name}, true
		}
		return nil, false
	}
	tests := []struct {
		name string
		data string
		want any
	}{
		{"py2 text list", "(lp0\nS'a\\'b\\n\\x41\\101'\np1\naI01\naI00\naL12345678901234567890L\naF1.5\naV\\u20ac\\U0001F600x\np2\nag1\na.",
			[]any{"a'b\nAA", true, false, mustBig("12345678901234567890"), 1.5, "€😀x", "a'b\nAA"}},
		{"py2 binary strings", "\x80\x02]q\x00(U\x03abcT\x02\x00\x00\x00\xff\x00e.",
			[]any{"abc", "\xff\x00"}},
		{"binint forms", "\x80\x02(K\xffM\xff\xffJ\xff\xff\xff\xff\x8a\x00\x8a\x01\x80\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01t.",
			Tuple{int64(255), int64(65535), int64(-1), int64(0), int64(-128), mustBig("18446744073709551616")}},
		{"tuple1 tuple3 dup pop", "\x80\x02K\x01\x85K\x01K\x02K\x03\x87\x32\x30\x86.",
			Tuple{Tuple{int64(1)}, Tuple{int64(1), int64(2), int64(3)}}},
		{"pop mark", "\x80\x02K\x01(K\x02K\x031\x85.", Tuple{int64(1)}},
		{"dict opcode", "(S'a'\nI1\nd.", dictOf("a", int64(1))},
		{"frozenset opcode", "\x80\x04(K\x01K\x01K\x02\x91.", &Set{Items: []any{int64(1), int64(2)}, Frozen: true}},
		{"empty set additems", "\x80\x04\x8f(K\x02\x90.", &Set{Items: []any{int64(2)}}},
		{"frame and stack global", "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x03mod\x8c\x01C\x93)R.",
			&Object{Class: Global{"mod", "C"}, Args: Tuple{}}},
		{"inst", "(K\x01imod\nC\n.", &Object{Class: Global{"mod", "C"}, Args: Tuple{int64(1)}}},
		{"obj and build", "(cmod\nC\nK\x01o}b.", &Object{Class: Global{"mod", "C"}, Args: Tuple{int64(1)}, State: NewDict()}},
		{"newobj_ex", "\x80\x04cmod\nC\n)}(\x8c\x01kK\x02u\x92.",
			&Object{Class: Global{"mod", "C"}, Args: Tuple{}, Kwargs: dictOf("k", int64(2))}},
		{"ordered dict reduce", "\x80\x02ccollections\nOrderedDict\n)R(K\x02K\x03K\x01K\x04u.", dictOf(int64(2), int64(3), int64(1), int64(4))},
		{"codecs bytes", "\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R.", []byte{0xff}},
		{"bytearray8", "\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00ab\x98.", []byte("ab")},
		{"py2 set", "c__builtin__\nset\n((lI3\naI3\natR.", &Set{Items: []any{int64(3)}}},
		{"long put get", "\x80\x02K\x07r\x10\x00\x00\x00j\x10\x00\x00\x00\x86.", Tuple{int64(7), int64(7)}},
		{"dict subclass", "\x80\x02cmod\nD\n)\x81(K\x01K\x02u.",
			&Object{Class: Global{"mod", "D"}, Args: Tuple{}, Items: dictOf(int64(1), int64(2))}},
		{"list subclass", "\x80\x02cmod\nL\n)\x81(K\x01]e.",
			&Object{Class: Global{"mod", "L"}, Args: Tuple{}, List: []any{int64(1), []any{}}}},
		{"ordered dict with attributes", "\x80\x02ccollections\nOrderedDict\n)R}X\x01\x00\x00\x00aK\x01sb.",
			&Dict{Entries: nil, State: dictOf("a", int64(1))}},
		{"py2 numpy array (Detectron R-50.pkl style)", "\x80\x02}U\x04convcnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R(K\x01K\x02\x85cnumpy\ndtype\nU\x02f4K\x00K\x01\x87R(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x08\x00\x00\x80\x3f\x00\x00\x00\x40tbs.",
			dictOf("conv", &Array{DType: "float32", Shape: []int{2}, F32: []float32{1, 2}})},
		{"persistent id text", "Pkey\n.", "loaded:key"},
		{"persistent id binary", "\x80\x02X\x01\x00\x00\x00kQ.", "loaded:k"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Unmarshal([]byte(tc.data), Options{
				Resolve:        classes,
				PersistentLoad: func(pid any) (any, error) { return "loaded:" + pid.(string), nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stripIndex(got), stripIndex(tc.want)) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func mustBig(s string) *big.Int {
	b, _ := new(big.Int).SetString(s, 10)
	return b
}

func dictOf(kv ...any) *Dict {
	d := NewDict()
	for i := 0; i < len(kv); i += 2 {
		_ = d.Set(kv[i], kv[i+1])
	}
	return d
}

// stripIndex drops the lookup indexes so DeepEqual compares content only.
func stripIndex(v any) any {
	switch x := v.(type) {
	case *Dict:
		return Tuple{x.Entries, stripIndex(x.State)}
	case *Set:
		return Tuple{x.Items, x.Frozen}
	case *Object:
		var kw, items any
		if x.Kwargs != nil {
			kw = x.Kwargs.Entries
		}
		if x.Items != nil {
			items = x.Items.Entries
		}
		return Tuple{x.Class, x.Args, kw, stripIndex(x.State), items, x.List}
	}
	return v
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{"unknown global", "\x80\x02cfoo\nBar\n.", `pickle: unsupported global "foo.Bar" at offset 2`},
		{"unknown stack global", "\x80\x04\x8c\x02os\x8c\x06system\x93.", `pickle: unsupported global "os.system" at offset 14`},
		{"no stop", "\x80\x02K\x01", "unexpected end of data (no STOP opcode)"},
		{"truncated", "\x80\x02X\x05\x00\x00\x00ab", "unexpected end of data at offset 2"},
		{"huge length", "\x80\x04\x8e\x00\x00\x00\x00\x80\x00\x00\x00ab", "unexpected end of data"},
		{"too huge length", "\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x01\x00", "too large"},
		{"protocol 6", "\x80\x06N.", "unsupported protocol 6"},
		{"underflow", "\x80\x02\x85.", "stack underflow"},
		{"underflow at mark", "\x80\x02K\x01(\x85.", "stack underflow"},
		{"stop at mark", "(.", "stack underflow"},
		{"memo missing", "\x80\x02h\x05.", "memo key 5 missing"},
		{"ext", "\x80\x02\x82\x01.", "extension registry"},
		{"next buffer", "\x80\x05\x97.", "out-of-band buffers"},
		{"unhashable key", "\x80\x02}]K\x01s.", "unhashable type list"},
		{"no persistent hook", "\x80\x02K\x01Q.", "no PersistentLoad hook"},
		{"append to dict", "\x80\x02}K\x01a.", "APPEND to dict"},
		{"call a number", "\x80\x02K\x01)R.", "cannot call a int"},
		{"build an int", "\x80\x02K\x01Nb.", "BUILD on a int"},
		{"odd dict", "(K\x01d.", "odd number of items"},
		{"bad opcode", "\x80\x02\xff.", "unknown opcode 0xff"},
		{"bad string quote", "S'abc\n.", "not quoted"},
		{"object array", "\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01K\x01\x85cnumpy\ndtype\nX\x02\x00\x00\x00O8\x89\x88\x87R]t\x86b.", "not supported"},
		{"array size mismatch", "\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01K\x02\x85cnumpy\ndtype\nX\x02\x00\x00\x00f4\x89\x88\x87R\x89C\x04abcdtb.", "needs 8 bytes, got 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tc.data), Options{})
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *pickle.Error", err)
			}
		})
	}
}

func TestDecodeContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := DecodeContext(ctx, strings.NewReader("\x80\x02N."), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestSequentialPickles(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("\x80\x02K\x01.\x80\x02K\x02.rest"), 1<<16)
	for want := int64(1); want <= 2; want++ {
		v, err := Decode(r, Options{})
		if err != nil || v != want {
			t.Fatalf("got %v, %v; want %d", v, err, want)
		}
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "rest" {
		t.Fatalf("left %q, want %q", rest, "rest")
	}
}

func TestNoNumpy(t *testing.T) {
	_, err := Unmarshal([]byte("\x80\x02cnumpy\ndtype\n."), Options{NoNumpy: true})
	if err == nil || !strings.Contains(err.Error(), `"numpy.dtype"`) {
		t.Fatalf("got %v, want unsupported global numpy.dtype", err)
	}
}

func TestKeepUnknown(t *testing.T) {
	got, err := Unmarshal([]byte("\x80\x02cfoo\nBar\nK\x01\x85R."), Options{KeepUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	o, ok := got.(*Object)
	if !ok || o.Class != (Global{"foo", "Bar"}) || len(o.Args) != 1 {
		t.Fatalf("got %#v", got)
	}
}

func TestResolverOverridesBuiltins(t *testing.T) {
	got, err := Unmarshal([]byte("\x80\x02c__builtin__\nset\n)R."), Options{
		Resolve: func(module, name string) (any, bool) {
			return Func(func(Tuple) (any, error) { return "mine", nil }), true
		},
	})
	if err != nil || got != "mine" {
		t.Fatalf("got %v, %v; want the caller's resolver to win", got, err)
	}
}

func TestDictSemantics(t *testing.T) {
	d := NewDict()
	for _, kv := range [][2]any{{int64(1), "a"}, {1.0, "b"}, {true, "c"}, {Tuple{int64(1), "x"}, "t"}, {"1", "s"}} {
		if err := d.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	// Python: 1, 1.0 and True are one key; the first key object is kept.
	if d.Len() != 3 || d.Entries[0].Key != int64(1) || d.Entries[0].Value != "c" {
		t.Fatalf("entries %#v", d.Entries)
	}
	if v, ok := d.Get(Tuple{int64(1), "x"}); !ok || v != "t" {
		t.Fatalf("tuple key lookup: %v %v", v, ok)
	}
	if _, ok := d.Get([]any{}); ok {
		t.Fatal("unhashable lookup succeeded")
	}
}
