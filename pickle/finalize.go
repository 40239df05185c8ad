package pickle

import "fmt"

// maxDepth bounds how deeply decoded containers may nest. Python's own
// recursion limit stops pickling far earlier; the bound keeps a hostile
// pickle from exhausting the Go stack.
const maxDepth = 10000

// finalize replaces the *list placeholders inside v with []any. Shared
// lists stay shared (they get the same backing array) and cycles are cut
// by remembering what has been converted.
func (d *decoder) finalize(v any) (any, error) {
	f := finalizer{
		lists: map[*list][]any{},
		seen:  map[any]bool{},
	}
	return f.walk(v, 0)
}

type finalizer struct {
	lists map[*list][]any
	seen  map[any]bool // *Dict, *Set, *Object and tuples (by first element) done
}

func (f *finalizer) walk(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("containers nested more than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case *list:
		if out, ok := f.lists[x]; ok {
			return out, nil
		}
		out := make([]any, len(x.items))
		f.lists[x] = out
		for i, it := range x.items {
			w, err := f.walk(it, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = w
		}
		return out, nil
	case Tuple:
		if len(x) == 0 || f.seen[&x[0]] {
			return x, nil
		}
		f.seen[&x[0]] = true
		for i, it := range x {
			w, err := f.walk(it, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = w
		}
		return x, nil
	case *Dict:
		if f.seen[x] {
			return x, nil
		}
		f.seen[x] = true
		for i := range x.Entries {
			w, err := f.walk(x.Entries[i].Value, depth+1)
			if err != nil {
				return nil, err
			}
			x.Entries[i].Value = w
		}
		st, err := f.walk(x.State, depth+1)
		if err != nil {
			return nil, err
		}
		x.State = st
		return x, nil
	case *Object:
		if f.seen[x] {
			return x, nil
		}
		f.seen[x] = true
		if _, err := f.walk(x.Args, depth+1); err != nil {
			return nil, err
		}
		st, err := f.walk(x.State, depth+1)
		if err != nil {
			return nil, err
		}
		x.State = st
		if x.Items != nil {
			if _, err := f.walk(x.Items, depth+1); err != nil {
				return nil, err
			}
		}
		return x, nil
	}
	return v, nil
}
