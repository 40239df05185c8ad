package pickle

import (
	"fmt"
	"strings"
)

// builtinGlobal returns the few Python built-ins that ordinary data pickles
// reference. Python 2 module names (__builtin__, copy_reg) are accepted as
// Python 3's unpickler does with fix_imports.
func builtinGlobal(module, name string) (any, bool) {
	switch module {
	case "builtins", "__builtin__":
		switch name {
		case "set":
			return Func(func(args Tuple) (any, error) { return makeSet(args, false) }), true
		case "frozenset":
			return Func(func(args Tuple) (any, error) { return makeSet(args, true) }), true
		case "bytearray", "bytes":
			return Func(makeBytes), true
		case "object":
			return Class{Module: "builtins", Name: "object"}, true
		case "getattr":
			return Func(getAttr), true
		}
	case "collections":
		if name == "OrderedDict" {
			return Func(makeOrderedDict), true
		}
	case "_codecs":
		if name == "encode" {
			return Func(codecsEncode), true
		}
	case "copy_reg", "copyreg":
		if name == "_reconstructor" {
			return Func(reconstructor), true
		}
	}
	return nil, false
}

// iterable returns the items of a list, tuple or set argument.
func iterable(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case Tuple:
		return x, nil
	case *Set:
		return x.Items, nil
	}
	return nil, fmt.Errorf("expected an iterable, got %s", typeName(v))
}

func makeSet(args Tuple, frozen bool) (any, error) {
	s := &Set{Frozen: frozen}
	if len(args) == 0 {
		return s, nil
	}
	items, err := iterable(args[0])
	if err != nil {
		return nil, fmt.Errorf("set: %w", err)
	}
	if err := addAll(s, items); err != nil {
		return nil, fmt.Errorf("set: %w", err)
	}
	return s, nil
}

// makeBytes implements bytearray(...) and bytes(...) for the argument forms
// that pickles use: nothing, bytes, (str, encoding) and a list of ints.
func makeBytes(args Tuple) (any, error) {
	if len(args) == 0 {
		return []byte{}, nil
	}
	switch x := args[0].(type) {
	case []byte:
		return append([]byte(nil), x...), nil
	case string:
		if len(args) < 2 {
			return []byte(x), nil
		}
		return codecsEncode(args)
	}
	items, err := iterable(args[0])
	if err != nil {
		return nil, fmt.Errorf("bytearray: %w", err)
	}
	out := make([]byte, len(items))
	for i, it := range items {
		v, ok := it.(int64)
		if !ok || v < 0 || v > 255 {
			return nil, fmt.Errorf("bytearray: item %d is not a byte", i)
		}
		out[i] = byte(v)
	}
	return out, nil
}

func makeOrderedDict(args Tuple) (any, error) {
	d := NewDict()
	if len(args) == 0 {
		return d, nil
	}
	items, err := iterable(args[0])
	if err != nil {
		return nil, fmt.Errorf("OrderedDict: %w", err)
	}
	for i, it := range items {
		pair, err := iterable(it)
		if err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("OrderedDict: item %d is not a key/value pair", i)
		}
		if err := d.Set(pair[0], pair[1]); err != nil {
			return nil, fmt.Errorf("OrderedDict: %w", err)
		}
	}
	return d, nil
}

// codecsEncode implements _codecs.encode(str, encoding), which protocols 0
// to 2 use to carry bytes: latin-1 maps each code point below 256 to a byte.
func codecsEncode(args Tuple) (any, error) {
	if len(args) == 0 || len(args) > 2 {
		return nil, fmt.Errorf("_codecs.encode: want 1 or 2 arguments, got %d", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("_codecs.encode: argument is a %s, not a str", typeName(args[0]))
	}
	enc := "utf-8"
	if len(args) == 2 {
		if enc, ok = args[1].(string); !ok {
			return nil, fmt.Errorf("_codecs.encode: encoding is a %s, not a str", typeName(args[1]))
		}
	}
	switch strings.ToLower(strings.ReplaceAll(enc, "_", "-")) {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 255 {
				return nil, fmt.Errorf("_codecs.encode: code point %U is not latin-1", r)
			}
			out = append(out, byte(r))
		}
		return out, nil
	case "utf-8", "utf8":
		return []byte(s), nil
	}
	return nil, fmt.Errorf("_codecs.encode: encoding %q not supported", enc)
}

// reconstructor implements copy_reg._reconstructor(cls, base, state), the
// protocol 0 and 1 way of creating instances of plain classes.
func reconstructor(args Tuple) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("copy_reg._reconstructor: want 3 arguments, got %d", len(args))
	}
	var obj any
	var err error
	switch c := args[0].(type) {
	case Constructor:
		obj, err = c.New(nil, nil)
	case Callable:
		obj, err = c.Call(nil)
	default:
		return nil, fmt.Errorf("copy_reg._reconstructor: cannot instantiate a %s", typeName(args[0]))
	}
	if err != nil {
		return nil, err
	}
	if args[2] != nil {
		if o, ok := obj.(*Object); ok {
			o.Args = Tuple{args[2]}
		}
	}
	return obj, nil
}

// getAttr implements getattr(obj, name) for values that allow it
// (Attributer), which is how Python 3.11+ pickles enum members.
func getAttr(args Tuple) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("getattr: want 2 arguments, got %d", len(args))
	}
	name, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("getattr: name is a %s, not a str", typeName(args[1]))
	}
	a, ok := args[0].(Attributer)
	if !ok {
		return nil, fmt.Errorf("getattr: attribute %q of a %s is not supported", name, typeName(args[0]))
	}
	return a.Attribute(name)
}
