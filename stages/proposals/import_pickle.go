package proposals

import (
	"fmt"
	"math"
	"strconv"

	"github.com/detflow/detflow/pickle"
)

// Detectron2's BoxMode values.
const (
	boxModeXYXYAbs = 0
	boxModeXYWHAbs = 1
)

var boxModeNames = map[string]int64{"XYXY_ABS": 0, "XYWH_ABS": 1, "XYXY_REL": 2, "XYWH_REL": 3, "XYWHA_ABS": 4}

// resolveGlobal lets the decoder build the few classes proposal pickles
// reference, as inert data: mmengine's InstanceData and detectron2's BoxMode.
func resolveGlobal(module, name string) (any, bool) {
	switch module + "." + name {
	case "mmengine.structures.instance_data.InstanceData",
		"detectron2.structures.boxes.BoxMode":
		return pickle.Class{Module: module, Name: name}, true
	}
	return nil, false
}

// importPickle decodes a proposals pickle; layout "" detects it.
func importPickle(data []byte, layout string) (*fileProposals, error) {
	v, err := pickle.Unmarshal(data, pickle.Options{Resolve: resolveGlobal})
	if err != nil {
		return nil, err
	}
	if layout == "" {
		if layout, err = detectLayout(v); err != nil {
			return nil, err
		}
	}
	switch layout {
	case FormatMMDet:
		return decodeMMDet(v)
	case FormatMMDet3:
		return decodeMMDet3(v)
	case FormatDetectron:
		return decodeDetectron(v)
	default:
		return decodeDetectron2(v)
	}
}

// detectLayout names the layout of a decoded pickle from its structure.
func detectLayout(v any) (string, error) {
	switch x := v.(type) {
	case []any:
		return FormatMMDet, nil
	case *pickle.Dict:
		_, hasLogits := x.Get("objectness_logits")
		_, hasMode := x.Get("bbox_mode")
		_, hasBoxes := x.Get("boxes")
		switch {
		case hasLogits || hasMode:
			return FormatDetectron2, nil
		case hasBoxes:
			return FormatDetectron, nil
		case x.Len() == 0:
			return "", fmt.Errorf("pickle holds an empty dict: no layout to detect")
		}
		if _, ok := x.Entries[0].Key.(string); ok {
			return FormatMMDet3, nil
		}
		return "", fmt.Errorf("pickle holds a dict keyed by %T, not a known proposals layout", x.Entries[0].Key)
	}
	return "", fmt.Errorf("pickle holds a %T, not a known proposals layout (a list or a dict)", v)
}

func decodeMMDet(v any) (*fileProposals, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("mmdet layout: want a list of arrays, got %T", v)
	}
	fp := &fileProposals{layout: FormatMMDet, byOrder: true, entries: make([]entry, len(list))}
	for i, item := range list {
		m, err := toMatrix(item)
		if err != nil {
			return nil, fmt.Errorf("mmdet layout: entry %d: %w", i, err)
		}
		e, err := m.entry(nil)
		if err != nil {
			return nil, fmt.Errorf("mmdet layout: entry %d: %w", i, err)
		}
		fp.entries[i] = e
	}
	return fp, nil
}

func decodeMMDet3(v any) (*fileProposals, error) {
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("mmdet3 layout: want a dict keyed by image path, got %T", v)
	}
	fp := &fileProposals{layout: FormatMMDet3}
	for _, kv := range d.Entries {
		key, ok := kv.Key.(string)
		if !ok {
			return nil, fmt.Errorf("mmdet3 layout: key %v is a %T, not a path", kv.Key, kv.Key)
		}
		fields, err := instanceFields(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("mmdet3 layout: %q: %w", key, err)
		}
		bv, ok := fields.Get("bboxes")
		if !ok {
			return nil, fmt.Errorf("mmdet3 layout: %q: no bboxes", key)
		}
		m, err := toMatrix(bv)
		if err != nil {
			return nil, fmt.Errorf("mmdet3 layout: %q: bboxes: %w", key, err)
		}
		var scores []float32
		if sv, ok := fields.Get("scores"); ok {
			if scores, err = toVector(sv); err != nil {
				return nil, fmt.Errorf("mmdet3 layout: %q: scores: %w", key, err)
			}
		}
		e, err := m.entry(scores)
		if err != nil {
			return nil, fmt.Errorf("mmdet3 layout: %q: %w", key, err)
		}
		fp.keys = append(fp.keys, key)
		fp.entries = append(fp.entries, e)
	}
	return fp, nil
}

// instanceFields returns the fields of a dict or of an InstanceData object
// (whose pickled state is its __dict__).
func instanceFields(v any) (*pickle.Dict, error) {
	switch x := v.(type) {
	case *pickle.Dict:
		return x, nil
	case *pickle.Object:
		if d, ok := x.State.(*pickle.Dict); ok {
			return d, nil
		}
		return nil, fmt.Errorf("%s object without a dict state", x.Class)
	}
	return nil, fmt.Errorf("value is a %T, want a dict or InstanceData", v)
}

func decodeDetectron(v any) (*fileProposals, error) {
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("detectron layout: want a dict, got %T", v)
	}
	idKey := "ids"
	if _, ok := d.Get("indexes"); ok {
		idKey = "indexes" // older Detectron files
	}
	return decodeIDLists(d, FormatDetectron, idKey, "scores", false, boxModeXYXYAbs)
}

func decodeDetectron2(v any) (*fileProposals, error) {
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("detectron2 layout: want a dict, got %T", v)
	}
	// Detectron2 reads Detectron files too, renaming their keys.
	idKey, scoreKey, logits := "ids", "objectness_logits", true
	if _, ok := d.Get("indexes"); ok {
		idKey = "indexes"
	}
	if _, ok := d.Get(scoreKey); !ok {
		scoreKey, logits = "scores", false
	}
	mode := int64(boxModeXYXYAbs)
	if mv, ok := d.Get("bbox_mode"); ok {
		m, err := boxMode(mv)
		if err != nil {
			return nil, fmt.Errorf("detectron2 layout: bbox_mode: %w", err)
		}
		mode = m
	}
	if mode != boxModeXYXYAbs && mode != boxModeXYWHAbs {
		return nil, fmt.Errorf("detectron2 layout: bbox_mode %d not supported (want XYXY_ABS 0 or XYWH_ABS 1)", mode)
	}
	return decodeIDLists(d, FormatDetectron2, idKey, scoreKey, logits, mode)
}

// boxMode reads a BoxMode: an int, BoxMode(0) or getattr(BoxMode, "XYXY_ABS").
func boxMode(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case *pickle.Object:
		if x.Attr != "" {
			if m, ok := boxModeNames[x.Attr]; ok {
				return m, nil
			}
			return 0, fmt.Errorf("unknown BoxMode %q", x.Attr)
		}
		if len(x.Args) == 1 {
			if m, ok := x.Args[0].(int64); ok {
				return m, nil
			}
		}
		return 0, fmt.Errorf("unreadable %s", x)
	}
	return 0, fmt.Errorf("a %T, want an int or a BoxMode", v)
}

// decodeIDLists reads parallel lists of image ids, box arrays and score
// arrays (Detectron and Detectron2).
func decodeIDLists(d *pickle.Dict, layout, idKey, scoreKey string, logits bool, mode int64) (*fileProposals, error) {
	list := func(key string, required bool) ([]any, error) {
		v, ok := d.Get(key)
		if !ok {
			if required {
				return nil, fmt.Errorf("%s layout: no %q list", layout, key)
			}
			return nil, nil
		}
		l, ok := v.([]any)
		if !ok {
			if t, isTuple := v.(pickle.Tuple); isTuple {
				return []any(t), nil
			}
			return nil, fmt.Errorf("%s layout: %q is a %T, not a list", layout, key, v)
		}
		return l, nil
	}
	ids, err := list(idKey, true)
	if err != nil {
		return nil, err
	}
	boxes, err := list("boxes", true)
	if err != nil {
		return nil, err
	}
	scores, err := list(scoreKey, false)
	if err != nil {
		return nil, err
	}
	if len(boxes) != len(ids) || (scores != nil && len(scores) != len(ids)) {
		return nil, fmt.Errorf("%s layout: %d %s, %d boxes and %d %s: want one of each per image", layout, len(ids), idKey, len(boxes), len(scores), scoreKey)
	}
	fp := &fileProposals{layout: layout, ids: make([]int64, len(ids)), entries: make([]entry, len(ids))}
	for i := range ids {
		if fp.ids[i], err = imageID(ids[i]); err != nil {
			return nil, fmt.Errorf("%s layout: %s[%d]: %w", layout, idKey, i, err)
		}
		m, err := toMatrix(boxes[i])
		if err != nil {
			return nil, fmt.Errorf("%s layout: boxes[%d]: %w", layout, i, err)
		}
		if m.cols >= 4 && mode == boxModeXYWHAbs {
			for r := range m.rows {
				m.data[r*m.cols+2] += m.data[r*m.cols]
				m.data[r*m.cols+3] += m.data[r*m.cols+1]
			}
		}
		var sc []float32
		if scores != nil {
			if sc, err = toVector(scores[i]); err != nil {
				return nil, fmt.Errorf("%s layout: %s[%d]: %w", layout, scoreKey, i, err)
			}
			if logits {
				for j, l := range sc {
					sc[j] = float32(1 / (1 + math.Exp(-float64(l))))
				}
			}
		}
		if fp.entries[i], err = m.entry(sc); err != nil {
			return nil, fmt.Errorf("%s layout: image %d: %w", layout, fp.ids[i], err)
		}
	}
	return fp, nil
}

// imageID reads an id stored as an int or, by Detectron2, a string.
func imageID(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) {
			return int64(x), nil
		}
	case string:
		id, err := strconv.ParseInt(x, 10, 64)
		if err == nil {
			return id, nil
		}
		return 0, fmt.Errorf("id %q is not an integer", x)
	}
	return 0, fmt.Errorf("id %v (%T) is not an integer", v, v)
}

// matrix is a row-major 2-D array of float32.
type matrix struct {
	rows, cols int
	data       []float32
}

// toMatrix reads an (n,k) numpy array or a list of lists of numbers. An
// empty array of any shape is an empty matrix.
func toMatrix(v any) (matrix, error) {
	switch x := v.(type) {
	case *pickle.Array:
		if x.Len() == 0 {
			return matrix{cols: 4}, nil
		}
		if len(x.Shape) != 2 {
			return matrix{}, fmt.Errorf("array of shape %v, want (n, 4) or (n, 5)", x.Shape)
		}
		return matrix{rows: x.Shape[0], cols: x.Shape[1], data: append([]float32(nil), x.Float32s()...)}, nil
	case []any:
		m := matrix{rows: len(x), cols: 4}
		for i, row := range x {
			r, err := toVector(row)
			if err != nil {
				return matrix{}, fmt.Errorf("row %d: %w", i, err)
			}
			if i == 0 {
				m.cols = len(r)
			}
			if len(r) != m.cols {
				return matrix{}, fmt.Errorf("row %d has %d numbers, row 0 has %d", i, len(r), m.cols)
			}
			m.data = append(m.data, r...)
		}
		return m, nil
	}
	return matrix{}, fmt.Errorf("a %T, want a numpy array", v)
}

// toVector reads a 1-D numpy array or a list of numbers.
func toVector(v any) ([]float32, error) {
	switch x := v.(type) {
	case *pickle.Array:
		if len(x.Shape) > 1 && x.Len() > 0 {
			if len(x.Shape) != 2 || x.Shape[1] != 1 {
				return nil, fmt.Errorf("array of shape %v, want (n,)", x.Shape)
			}
		}
		return append([]float32(nil), x.Float32s()...), nil
	case []any:
		out := make([]float32, len(x))
		for i, n := range x {
			switch f := n.(type) {
			case float64:
				out[i] = float32(f)
			case int64:
				out[i] = float32(f)
			default:
				return nil, fmt.Errorf("item %d is a %T, not a number", i, n)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %T, want a numpy array", v)
}

// entry turns an (n,4) or (n,5) matrix and optional scores into an entry;
// a fifth column is the score.
func (m matrix) entry(scores []float32) (entry, error) {
	if m.rows > 0 && m.cols != 4 && m.cols != 5 {
		return entry{}, fmt.Errorf("boxes have %d columns, want 4 (x1,y1,x2,y2) or 5 (with score)", m.cols)
	}
	e := entry{boxes: make([]float32, 0, 4*m.rows)}
	for r := range m.rows {
		e.boxes = append(e.boxes, m.data[r*m.cols:r*m.cols+4]...)
	}
	switch {
	case scores != nil:
		if len(scores) != m.rows {
			return entry{}, fmt.Errorf("%d boxes but %d scores", m.rows, len(scores))
		}
		e.scores = scores
	case m.cols == 5:
		e.scores = make([]float32, m.rows)
		for r := range m.rows {
			e.scores[r] = m.data[r*5+4]
		}
	}
	return e, nil
}
