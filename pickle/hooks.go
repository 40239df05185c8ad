package pickle

import "fmt"

// Options configures a decode. The zero value decodes plain data, numpy
// arrays and the harmless built-ins.
type Options struct {
	// Resolve maps a global (module, qualified name) to a Go value; it is
	// consulted before the built-ins, so it may override them. Return ok false
	// for globals it does not know. A resolved value takes part in REDUCE,
	// NEWOBJ and BUILD through Callable, Constructor and StateSetter.
	Resolve func(module, name string) (value any, ok bool)

	// PersistentLoad turns a PERSID or BINPERSID id into a value (PyTorch uses
	// it for tensor storages). Without it those opcodes are an error.
	PersistentLoad func(pid any) (any, error)

	// NoNumpy disables the built-in numpy globals.
	NoNumpy bool

	// KeepUnknown turns globals that nothing resolves into inert Class
	// values (calling one records an *Object) instead of failing. Use it to
	// read the data parts of pickles that also carry foreign objects; the
	// default is the error naming the global.
	KeepUnknown bool
}

// Callable is a resolved global that REDUCE (and INST, OBJ) may call:
// callable(*args).
type Callable interface {
	Call(args Tuple) (any, error)
}

// Func adapts a Go function to Callable.
type Func func(args Tuple) (any, error)

// Call calls f.
func (f Func) Call(args Tuple) (any, error) { return f(args) }

// Constructor is a resolved class that NEWOBJ and NEWOBJ_EX instantiate:
// cls.__new__(cls, *args, **kwargs). Classes that do not implement it are
// called through Callable instead, with kwargs rejected.
type Constructor interface {
	New(args Tuple, kwargs *Dict) (any, error)
}

// StateSetter is a value that BUILD may update: obj.__setstate__(state), or
// obj.__dict__.update(state) for plain classes.
type StateSetter interface {
	SetState(state any) error
}

// Class is a permissive stand-in for a Python class: calling or
// instantiating it makes an *Object that records its arguments and state.
// Return it from Options.Resolve for classes whose instances should be kept
// as data, e.g. an enum such as detectron2's BoxMode.
type Class Global

// Call implements Callable.
func (c Class) Call(args Tuple) (any, error) {
	return &Object{Class: Global(c), Args: args}, nil
}

// New implements Constructor.
func (c Class) New(args Tuple, kwargs *Dict) (any, error) {
	return &Object{Class: Global(c), Args: args, Kwargs: kwargs}, nil
}

// Classes returns a resolver for Options.Resolve that accepts the named
// classes ("module.Name", e.g. "detectron2.structures.boxes.BoxMode") as
// inert Class values and leaves every other global alone.
func Classes(names ...string) func(module, name string) (any, bool) {
	allowed := make(map[string]bool, len(names))
	for _, n := range names {
		allowed[n] = true
	}
	return func(module, name string) (any, bool) {
		if allowed[module+"."+name] {
			return Class{Module: module, Name: name}, true
		}
		return nil, false
	}
}

// Attribute implements Attributer: an attribute of an inert class is an
// inert object that records its name.
func (c Class) Attribute(name string) (any, error) {
	return &Object{Class: Global(c), Attr: name}, nil
}

// Attributer is a resolved value that builtins.getattr(value, name) may be
// applied to.
type Attributer interface {
	Attribute(name string) (any, error)
}

// Object is an instance of a Class: its constructor arguments, the state
// that BUILD gave it and, for subclasses of dict or list, the items that
// SETITEMS or APPENDS added.
type Object struct {
	Class  Global
	Args   Tuple
	Kwargs *Dict
	State  any
	Items  *Dict // dict subclass items, nil if none were set
	List   []any // list subclass items
	// Attr is set when the object was reached as getattr(Class, Attr):
	// Python 3.11+ pickles enum members that way, e.g. BoxMode.XYXY_ABS.
	Attr string
}

// SetState implements StateSetter.
func (o *Object) SetState(state any) error {
	o.State = state
	return nil
}

// String describes the object for logs and errors without printing its
// (possibly large or cyclic) contents.
func (o *Object) String() string {
	return fmt.Sprintf("%s(%d args)", o.Class, len(o.Args))
}
