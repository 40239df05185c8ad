package tensor

// node records how a tensor was computed: its inputs and a backward function
// that maps the output gradient to one gradient per input (nil where an input
// needs none). Backward functions return buffers from Engine.get; the engine
// then owns them.
type node struct {
	inputs   []*Tensor
	backward func(dy Buffer) []Buffer
}

// record attaches a node to out when grad mode is on and some input requires
// a gradient. back is called lazily during Backward.
func record(out *Tensor, inputs []*Tensor, back func(dy Buffer) []Buffer) {
	if !out.eng.gradEnabled {
		return
	}
	need := false
	for _, in := range inputs {
		if in != nil && in.requiresGrad {
			need = true
		}
	}
	if !need {
		return
	}
	out.requiresGrad = true
	out.node = &node{inputs: inputs, backward: back}
}

// wants reports whether input i of an op needs a gradient.
func wants(t *Tensor) bool { return t != nil && t.requiresGrad }

// Backward computes gradients of t (a scalar, or any shape with the implicit
// gradient of ones, as PyTorch's backward(ones)) with respect to every leaf
// that requires one, accumulating into their Grad. Intermediate gradients are
// returned to the pool as soon as they are consumed, and the graph is freed.
func (t *Tensor) Backward() {
	seed := t.eng.get(t.Len())
	t.eng.dev.Fill(seed, 1)
	t.backwardFrom(seed)
}

// BackwardWith is Backward with an explicit output gradient of t's size
// (PyTorch's t.backward(grad)); grad is copied, not consumed.
func (t *Tensor) BackwardWith(grad *Tensor) {
	if grad.Len() != t.Len() {
		Panicf("tensor: backward gradient of shape %v for %v", grad.shape, t.shape)
	}
	seed := t.eng.get(t.Len())
	t.eng.dev.Copy(seed, grad.buf)
	t.backwardFrom(seed)
}

// backwardFrom runs the backward pass from a seed gradient that the engine
// owns from now on.
func (t *Tensor) backwardFrom(seed Buffer) {
	e := t.eng
	if !t.requiresGrad {
		Panicf("tensor: Backward of a tensor that does not require grad")
	}
	if t.freed {
		Panicf("tensor: Backward through a graph a second time (its nodes are freed after the first)")
	}
	order := topoOrder(t)
	e.accumulate(t, seed)
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		if !v.gradSet {
			continue
		}
		grads := v.node.backward(v.grad)
		if len(grads) != len(v.node.inputs) {
			Panicf("tensor: backward returned %d gradients for %d inputs", len(grads), len(v.node.inputs))
		}
		// v's gradient is consumed: give it back unless a backward passed
		// it through unchanged (Reshape), which hands ownership on.
		passed := false
		for _, g := range grads {
			passed = passed || g == v.grad
		}
		if !passed {
			e.put(v.grad)
		}
		v.grad, v.gradSet = nil, false
		for j, in := range v.node.inputs {
			if grads[j] == nil {
				continue
			}
			if !wants(in) {
				e.put(grads[j])
				continue
			}
			e.accumulate(in, grads[j])
		}
		v.node, v.freed = nil, true
		if e.freeGraph {
			e.freeScratch(v) // every consumer of v has run: nothing reads it now
		}
	}
}

// topoOrder lists the non-leaf tensors reachable from t, inputs before outputs.
func topoOrder(t *Tensor) []*Tensor {
	var order []*Tensor
	seen := map[*Tensor]bool{}
	// Iterative DFS: deep networks would otherwise grow the goroutine stack
	// for every backward pass.
	type frame struct {
		t    *Tensor
		next int
	}
	stack := []frame{{t: t}}
	seen[t] = true
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.t.node == nil || top.next == len(top.t.node.inputs) {
			if top.t.node != nil {
				order = append(order, top.t)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		in := top.t.node.inputs[top.next]
		top.next++
		if in != nil && in.freed {
			Panicf("tensor: Backward through a graph a second time (its nodes are freed after the first)")
		}
		if in != nil && in.node != nil && !seen[in] {
			seen[in] = true
			stack = append(stack, frame{t: in})
		}
	}
	return order
}

// accumulate adds g (owned by the engine from now on) into t's gradient.
func (e *Engine) accumulate(t *Tensor, g Buffer) {
	switch {
	case t.gradSet:
		e.dev.Axpby(1, g, 1, t.grad)
		e.put(g)
	case t.node != nil:
		// Intermediate: adopt g, it is released once consumed.
		t.grad, t.gradSet = g, true
	case t.persistent:
		// Leaf parameter: adopt g and pool the previous step's buffer, so a
		// step costs no gradient copy; the buffer lives until the next
		// accumulation into an unset gradient, not until Release.
		e.put(t.grad)
		t.grad, t.gradSet = g, true
	default:
		// Scratch leaf: the gradient lives as long as the step.
		e.scratch = append(e.scratch, g)
		t.grad, t.gradSet = g, true
	}
}
