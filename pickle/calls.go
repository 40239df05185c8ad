package pickle

import "fmt"

// globalOp runs GLOBAL, STACK_GLOBAL and INST: look a name up through the
// resolvers, never by importing anything.
func (d *decoder) globalOp(op byte) error {
	var module, name string
	switch op {
	case opStackGlobal:
		n, err := d.pop()
		if err != nil {
			return err
		}
		m, err := d.pop()
		if err != nil {
			return err
		}
		var ok1, ok2 bool
		name, ok1 = n.(string)
		module, ok2 = m.(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("STACK_GLOBAL needs two strings, got %s and %s", typeName(m), typeName(n))
		}
	default:
		m, err := d.readLine()
		if err != nil {
			return err
		}
		n, err := d.readLine()
		if err != nil {
			return err
		}
		module, name = string(m), string(n)
	}
	v, err := d.resolve(module, name)
	if err != nil {
		return err
	}
	if op != opInst {
		d.push(v)
		return nil
	}
	items, err := d.popMark()
	if err != nil {
		return err
	}
	obj, err := d.call(v, Tuple(items))
	if err != nil {
		return err
	}
	d.push(obj)
	return nil
}

// resolve finds a global: the caller's resolver first, then the built-ins,
// then numpy.
func (d *decoder) resolve(module, name string) (any, error) {
	if d.opts.Resolve != nil {
		if v, ok := d.opts.Resolve(module, name); ok {
			return v, nil
		}
	}
	if v, ok := builtinGlobal(module, name); ok {
		return v, nil
	}
	if !d.opts.NoNumpy {
		if v, ok := numpyGlobal(module, name); ok {
			return v, nil
		}
	}
	if d.opts.KeepUnknown {
		return Class{Module: module, Name: name}, nil
	}
	return nil, fmt.Errorf("unsupported global %q", module+"."+name)
}

// callOp runs REDUCE, NEWOBJ, NEWOBJ_EX, OBJ and BUILD.
func (d *decoder) callOp(op byte) error {
	switch op {
	case opBuild:
		state, err := d.pop()
		if err != nil {
			return err
		}
		target, err := d.top()
		if err != nil {
			return err
		}
		return d.build(target, state)
	case opObj:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return fmt.Errorf("OBJ without a class")
		}
		obj, err := d.newObj(items[0], Tuple(items[1:]), nil)
		if err != nil {
			return err
		}
		d.push(obj)
		return nil
	}
	var kwargs *Dict
	if op == opNewObjEx {
		kw, err := d.pop()
		if err != nil {
			return err
		}
		var ok bool
		if kwargs, ok = kw.(*Dict); !ok {
			return fmt.Errorf("NEWOBJ_EX keyword arguments are a %s, not a dict", typeName(kw))
		}
	}
	a, err := d.pop()
	if err != nil {
		return err
	}
	args, ok := a.(Tuple)
	if !ok {
		return fmt.Errorf("arguments are a %s, not a tuple", typeName(a))
	}
	f, err := d.pop()
	if err != nil {
		return err
	}
	var obj any
	if op == opReduce {
		obj, err = d.call(f, args)
	} else {
		obj, err = d.newObj(f, args, kwargs)
	}
	if err != nil {
		return err
	}
	d.push(obj)
	return nil
}

func (d *decoder) call(f any, args Tuple) (any, error) {
	c, ok := f.(Callable)
	if !ok {
		return nil, fmt.Errorf("cannot call a %s", typeName(f))
	}
	args, err := d.finalizeTuple(args)
	if err != nil {
		return nil, err
	}
	return c.Call(args)
}

func (d *decoder) newObj(cls any, args Tuple, kwargs *Dict) (any, error) {
	args, err := d.finalizeTuple(args)
	if err != nil {
		return nil, err
	}
	if kwargs != nil {
		if _, err := d.finalize(kwargs); err != nil {
			return nil, err
		}
	}
	if c, ok := cls.(Constructor); ok {
		return c.New(args, kwargs)
	}
	if kwargs != nil && kwargs.Len() > 0 {
		return nil, fmt.Errorf("cannot instantiate a %s with keyword arguments", typeName(cls))
	}
	c, ok := cls.(Callable)
	if !ok {
		return nil, fmt.Errorf("cannot instantiate a %s", typeName(cls))
	}
	return c.Call(args)
}

func (d *decoder) build(target, state any) error {
	s, ok := target.(StateSetter)
	if !ok {
		return fmt.Errorf("BUILD on a %s, which takes no state", typeName(target))
	}
	state, err := d.finalize(state)
	if err != nil {
		return err
	}
	return s.SetState(state)
}

func (d *decoder) finalizeTuple(t Tuple) (Tuple, error) {
	v, err := d.finalize(t)
	if err != nil {
		return nil, err
	}
	return v.(Tuple), nil
}

func (d *decoder) finalizeSlice(items []any) ([]any, error) {
	t, err := d.finalizeTuple(Tuple(items))
	return []any(t), err
}
