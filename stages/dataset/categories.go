package dataset

// shapeKind is a synthetic object category; its value + 1 is the COCO
// category id.
type shapeKind int

const (
	circle shapeKind = iota
	square
	triangle
	star
	crescent
	ring
	cross
	ellipse
	diamond
	numShapes
)

// shapeNames are the COCO category names, indexed by shapeKind.
var shapeNames = [numShapes]string{
	circle:   "circle",
	square:   "square",
	triangle: "triangle",
	star:     "star",
	crescent: "crescent",
	ring:     "ring",
	cross:    "cross",
	ellipse:  "ellipse",
	diamond:  "diamond",
}

// categoryID is the COCO id of a shape category (1-based, as in COCO).
func (k shapeKind) categoryID() int { return int(k) + 1 }

func (k shapeKind) String() string { return shapeNames[k] }

// SynthCategories returns the synthetic set's categories as (id, name)
// pairs in id order, for callers that need them without reading the JSON.
func SynthCategories() []Category {
	out := make([]Category, numShapes)
	for k := range numShapes {
		out[k] = Category{ID: k.categoryID(), Name: k.String(), Supercategory: "shape"}
	}
	return out
}
