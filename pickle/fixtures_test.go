package pickle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFixtures decodes the pickles written by testdata/gen_fixtures.py in
// every protocol and compares them with the tagged JSON Python wrote.
func TestFixtures(t *testing.T) {
	// Detectron2's BoxMode enum and MMDetection 3's InstanceData are classes
	// the caller chooses to accept.
	opts := Options{Resolve: Classes(
		"detectron2.structures.boxes.BoxMode",
		"mmengine.structures.instance_data.InstanceData",
	)}
	for _, name := range []string{"scalars", "nested", "numpy", "proposals", "detectron2_proposals", "mmdet3_proposals"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var want any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("parse %s.json: %v", name, err)
		}
		for _, proto := range []int{0, 1, 2, 3, 4, 5} {
			file := fmt.Sprintf("%s.p%d.pkl", name, proto)
			t.Run(file, func(t *testing.T) {
				data, err := os.ReadFile(filepath.Join("testdata", file))
				if err != nil {
					t.Fatal(err)
				}
				got, err := Unmarshal(data, opts)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if err := compareTagged(want, got, "$"); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// compareTagged checks a decoded value against gen_fixtures.py's tagged
// JSON and names the first difference by path.
func compareTagged(want, got any, path string) error {
	if want == nil || isBool(want) {
		if want != got {
			return fmt.Errorf("%s: got %#v (%s), want %v", path, got, typeName(got), want)
		}
		return nil
	}
	m := want.(map[string]any)
	for tagName, w := range m {
		switch tagName {
		case "int":
			return compareInt(w.(string), got, path)
		case "float":
			f, ok := got.(float64)
			if !ok {
				return fmt.Errorf("%s: got %s, want float", path, typeName(got))
			}
			return compareFloat(w.(string), f, path)
		case "str":
			if s, ok := got.(string); !ok || s != w.(string) {
				return fmt.Errorf("%s: got %q (%s), want str %q", path, got, typeName(got), w)
			}
		case "bytes":
			b, ok := got.([]byte)
			if !ok || hex.EncodeToString(b) != w.(string) {
				return fmt.Errorf("%s: got %s %x, want bytes %s", path, typeName(got), got, w)
			}
		case "list":
			l, ok := got.([]any)
			if !ok {
				return fmt.Errorf("%s: got %s, want list", path, typeName(got))
			}
			return compareItems(w.([]any), l, path)
		case "tuple":
			l, ok := got.(Tuple)
			if !ok {
				return fmt.Errorf("%s: got %s, want tuple", path, typeName(got))
			}
			return compareItems(w.([]any), l, path)
		case "set", "frozenset":
			s, ok := got.(*Set)
			if !ok || s.Frozen != (tagName == "frozenset") {
				return fmt.Errorf("%s: got %s, want %s", path, typeName(got), tagName)
			}
			return compareItems(w.([]any), s.Items, path)
		case "dict":
			return compareDict(w.([]any), got, path)
		case "ndarray":
			return compareArray(w.(map[string]any), got, path)
		case "object":
			o, ok := got.(*Object)
			spec := w.(map[string]any)
			if !ok || o.Class.String() != spec["class"].(string) {
				return fmt.Errorf("%s: got %s, want object %s", path, typeName(got), spec["class"])
			}
			if attr, ok := spec["attr"].(string); ok && o.Attr != attr {
				return fmt.Errorf("%s: attribute %q, want %q", path, o.Attr, attr)
			}
			if state, ok := spec["state"]; ok {
				return compareTagged(state, o.State, path+".state")
			}
		default:
			return fmt.Errorf("%s: unknown tag %q in fixture", path, tagName)
		}
	}
	return nil
}

func isBool(v any) bool { _, ok := v.(bool); return ok }

func compareInt(want string, got any, path string) error {
	var g string
	switch x := got.(type) {
	case int64:
		g = strconv.FormatInt(x, 10)
	case *big.Int:
		if x.IsInt64() {
			return fmt.Errorf("%s: %s decoded as *big.Int though it fits int64", path, x)
		}
		g = x.String()
	default:
		return fmt.Errorf("%s: got %s, want int %s", path, typeName(got), want)
	}
	if g != want {
		return fmt.Errorf("%s: got %s, want %s", path, g, want)
	}
	return nil
}

func compareFloat(want string, got float64, path string) error {
	w, err := strconv.ParseFloat(want, 64)
	if err != nil {
		return fmt.Errorf("%s: bad fixture float %q", path, want)
	}
	if math.IsNaN(w) && math.IsNaN(got) {
		return nil
	}
	if math.Float64bits(w) != math.Float64bits(got) {
		return fmt.Errorf("%s: got %v, want %s", path, got, want)
	}
	return nil
}

func compareItems(want []any, got []any, path string) error {
	if len(want) != len(got) {
		return fmt.Errorf("%s: got %d items, want %d", path, len(got), len(want))
	}
	for i := range want {
		if err := compareTagged(want[i], got[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func compareDict(want []any, got any, path string) error {
	d, ok := got.(*Dict)
	if !ok {
		return fmt.Errorf("%s: got %s, want dict", path, typeName(got))
	}
	if len(want) != d.Len() {
		return fmt.Errorf("%s: got %d entries, want %d", path, d.Len(), len(want))
	}
	for i, pair := range want {
		kv := pair.([]any)
		p := fmt.Sprintf("%s{%d}", path, i)
		if err := compareTagged(kv[0], d.Entries[i].Key, p+".key"); err != nil {
			return err
		}
		if err := compareTagged(kv[1], d.Entries[i].Value, p+".value"); err != nil {
			return err
		}
	}
	return nil
}

func compareArray(want map[string]any, got any, path string) error {
	a, ok := got.(*Array)
	if !ok {
		return fmt.Errorf("%s: got %s, want ndarray", path, typeName(got))
	}
	if a.DType != want["dtype"].(string) {
		return fmt.Errorf("%s: dtype %s, want %s", path, a.DType, want["dtype"])
	}
	if a.Fortran != want["fortran"].(bool) {
		return fmt.Errorf("%s: fortran %v, want %v", path, a.Fortran, want["fortran"])
	}
	wshape := want["shape"].([]any)
	if len(wshape) != len(a.Shape) {
		return fmt.Errorf("%s: shape %v, want %v", path, a.Shape, wshape)
	}
	for i, s := range wshape {
		if int(s.(float64)) != a.Shape[i] {
			return fmt.Errorf("%s: shape %v, want %v", path, a.Shape, wshape)
		}
	}
	data := want["data"].([]any)
	if a.Len() != len(data) {
		return fmt.Errorf("%s: %d elements, want %d", path, a.Len(), len(data))
	}
	for i, w := range data {
		p := fmt.Sprintf("%s.data[%d]", path, i)
		var err error
		switch {
		case a.Str != nil:
			if strings.HasPrefix(a.DType, "bytes") {
				err = compareTagged(w, []byte(a.Str[i]), p)
			} else {
				err = compareTagged(w, a.Str[i], p)
			}
		case a.F32 != nil:
			err = compareFloat(w.(map[string]any)["float"].(string), float64(a.F32[i]), p)
		case a.F64 != nil:
			err = compareFloat(w.(map[string]any)["float"].(string), a.F64[i], p)
		case a.DType == "bool":
			if (a.I64[i] != 0) != w.(bool) {
				err = fmt.Errorf("%s: got %d, want %v", p, a.I64[i], w)
			}
		default:
			err = compareInt(w.(map[string]any)["int"].(string), a.I64[i], p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// TestNumpy2ModuleNames decodes the numpy fixtures with the module names
// numpy 2 writes (numpy._core instead of numpy.core). Protocols 0 and 2 name
// globals in text lines, so the rename keeps the pickles valid.
func TestNumpy2ModuleNames(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "numpy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"numpy.p0.pkl", "numpy.p2.pkl"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		renamed := bytes.ReplaceAll(data, []byte("numpy.core."), []byte("numpy._core."))
		if bytes.Equal(renamed, data) {
			t.Fatalf("%s names no numpy.core module", file)
		}
		got, err := Unmarshal(renamed, Options{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := compareTagged(want, got, "$"); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
}

func TestUnknownClassNamed(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "detectron2_proposals.p2.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Unmarshal(data, Options{})
	if err == nil || !strings.Contains(err.Error(), `unsupported global "detectron2.structures.boxes.BoxMode" at offset`) {
		t.Fatalf("got %v", err)
	}
}

func TestRecursiveList(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "recursive.p2.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := got.([]any)
	if len(l) != 2 || l[0] != int64(1) {
		t.Fatalf("got %d items, first %v", len(l), l[0])
	}
	inner := l[1].([]any)
	if &inner[0] != &l[0] {
		t.Fatalf("the list does not contain itself")
	}
}
