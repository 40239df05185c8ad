package pth

import (
	"fmt"

	"github.com/detflow/detflow/pickle"
)

// loader is the state one checkpoint's decode shares: the storages by key
// and the tensors waiting for their storage's bytes.
type loader struct {
	storages map[string]*storage
	pending  []pendingTensor
}

// pendingTensor is a tensor whose view is known but whose data is not yet
// copied out of its storage.
type pendingTensor struct {
	t            *Tensor
	st           *storage
	offset       int64
	size, stride []int64
}

func newLoader() *loader {
	return &loader{storages: map[string]*storage{}}
}

// options are the pickle options for a data.pkl whose storage references
// go to persistentLoad.
func (l *loader) options(persistentLoad func(any) (any, error)) pickle.Options {
	return pickle.Options{
		Resolve:        l.resolve,
		PersistentLoad: persistentLoad,
		KeepUnknown:    true,
	}
}

// resolve binds the tensor rebuilder to this loader; the other torch
// globals need no state.
func (l *loader) resolve(module, name string) (any, bool) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		return pickle.Func(l.rebuildTensor), true
	}
	return resolveTorch(module, name)
}

// storageRef parses the fields shared by the zip and legacy persistent
// ids, ("storage", storage_type, key, location, numel, ...), and returns the
// storage they name, creating it on first use.
func (l *loader) storageRef(pid any, fields int) (*storage, storageType, pickle.Tuple, error) {
	t, ok := pid.(pickle.Tuple)
	if !ok || len(t) != fields || t[0] != "storage" {
		return nil, storageType{}, nil, fmt.Errorf("persistent id is not a (\"storage\", type, key, location, numel) tuple")
	}
	st, ok := t[1].(storageType)
	if !ok {
		if u, isU := t[1].(unsupportedStorage); isU {
			return nil, st, nil, fmt.Errorf("storage type %s not supported", string(u))
		}
		return nil, st, nil, fmt.Errorf("storage type is a %T, not a torch storage class", t[1])
	}
	key, ok1 := t[2].(string)
	numel, ok2 := t[4].(int64)
	if !ok1 || !ok2 || numel < 0 {
		return nil, st, nil, fmt.Errorf("storage reference has a bad key or size")
	}
	if numel > maxStorageElems {
		return nil, st, nil, fmt.Errorf("storage %q declares %d elements, more than the %d supported", key, numel, maxStorageElems)
	}
	// Tensors may view one storage with different element types
	// (x.view(torch.int32)), so storages are told apart by both.
	cacheKey := key + "/" + st.dtype
	s, ok := l.storages[cacheKey]
	if !ok {
		s = &storage{key: key, dtype: st.dtype, numel: numel}
		l.storages[cacheKey] = s
	}
	return s, st, t, nil
}

// materialiseAll copies every pending tensor out of its storage.
func (l *loader) materialiseAll() error {
	for _, p := range l.pending {
		if !p.st.loaded {
			return fmt.Errorf("storage %q holds no data", p.st.key)
		}
		t, err := materialise(p.st, p.offset, p.size, p.stride)
		if err != nil {
			return err
		}
		*p.t = *t
	}
	l.pending = nil
	return nil
}
