// Package pickle decodes Python pickles (protocols 0 to 5) into Go values
// without executing any code.
//
// A pickle is a program for a small stack machine; Python runs it and may
// call any importable function on the way. This decoder runs the same
// opcodes but calls only what the caller allows: every GLOBAL or
// STACK_GLOBAL reference is looked up in Options.Resolve, then in a short
// list of harmless built-ins (set, frozenset, bytearray, OrderedDict,
// _codecs.encode, copy_reg._reconstructor, getattr on allowed classes) and,
// unless disabled, in the numpy helpers of this package. Anything else is
// an error that names the global and the byte offset, e.g.
//
//	pickle: unsupported global "foo.Bar" at offset 123
//
// Classes builds a resolver that accepts named classes (an enum such as
// detectron2's BoxMode, a container such as mmengine's InstanceData) as
// inert records; Options.KeepUnknown accepts every class that way.
//
// Python values map to Go values as follows:
//
//	None              nil
//	bool              bool
//	int               int64, or *big.Int when it does not fit
//	float             float64
//	str               string (Python 2 byte strings too: raw bytes in a string)
//	bytes, bytearray  []byte
//	list              []any
//	tuple             Tuple
//	dict, OrderedDict *Dict (insertion order kept, keys may be non-strings)
//	set, frozenset    *Set
//	numpy.ndarray     *Array (numbers, bools, str/bytes; row-major, see Array)
//	numpy scalar      float64, int64, bool, string or []byte
//	numpy.dtype       *DType
//
// REDUCE, NEWOBJ, NEWOBJ_EX, INST and OBJ call resolved values that
// implement Callable (or Constructor); BUILD calls StateSetter on its target.
// PERSID and BINPERSID go to Options.PersistentLoad. Declared lengths are
// never trusted for allocation: data is read in bounded chunks, so a short or
// hostile input fails with an error instead of exhausting memory.
package pickle
