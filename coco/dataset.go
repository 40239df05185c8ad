package coco

import (
	"fmt"
	"sort"
)

// Box is an axis-aligned box in COCO's [x, y, w, h] pixel format: (x, y) is
// the top-left corner, w and h the width and height (no +1 convention).
type Box [4]float64

// Area returns w*h, the area pycocotools' loadRes assigns to a result box.
func (b Box) Area() float64 { return b[2] * b[3] }

// Image is one entry of an instances file's "images" list.
type Image struct {
	ID       int64  `json:"id"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	FileName string `json:"file_name"`
}

// Category is one entry of an instances file's "categories" list.
type Category struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Supercategory string `json:"supercategory,omitempty"`
}

// Annotation is one ground-truth object. Segmentation is only kept by
// LoadDatasetMasks: bbox evaluation does not need it and polygons dominate
// the size of real files.
type Annotation struct {
	ID         int64
	ImageID    int64
	CategoryID int64
	BBox       Box
	// Area is the file's "area" field (the segmentation area in COCO itself),
	// which is what COCOeval compares with the area ranges; w*h when absent.
	Area    float64
	IsCrowd bool
	// Segmentation is the object's mask as pycocotools' annToRLE makes it
	// (polygons rasterised at the image's size); nil when not loaded.
	Segmentation *RLE
}

// Dataset is a loaded, validated instances file with its indexes. Slices keep
// file order, which COCOeval's tie-breaking depends on.
type Dataset struct {
	Images      []Image
	Annotations []Annotation
	Categories  []Category

	imageIndex    map[int64]int   // image id -> index in Images
	categoryIndex map[int64]int   // category id -> index in Categories
	annsByImage   map[int64][]int // image id -> annotation indexes, file order
	annsByCat     map[int64][]int // category id -> annotation indexes, file order
}

// buildIndex fills the id indexes and returns every broken rule as a list of
// messages naming the JSON path, so a user can fix a file in one pass.
func (d *Dataset) buildIndex() []string {
	var problems []string
	d.imageIndex = make(map[int64]int, len(d.Images))
	for i, img := range d.Images {
		if first, ok := d.imageIndex[img.ID]; ok {
			problems = append(problems, fmt.Sprintf("images[%d].id: duplicate id %d (first at images[%d])", i, img.ID, first))
			continue
		}
		d.imageIndex[img.ID] = i
	}
	d.categoryIndex = make(map[int64]int, len(d.Categories))
	for i, c := range d.Categories {
		if first, ok := d.categoryIndex[c.ID]; ok {
			problems = append(problems, fmt.Sprintf("categories[%d].id: duplicate id %d (first at categories[%d])", i, c.ID, first))
			continue
		}
		d.categoryIndex[c.ID] = i
	}
	d.annsByImage = make(map[int64][]int, len(d.Images))
	d.annsByCat = make(map[int64][]int, len(d.Categories))
	annIDs := make(map[int64]int, len(d.Annotations))
	for i, a := range d.Annotations {
		if first, ok := annIDs[a.ID]; ok {
			problems = append(problems, fmt.Sprintf("annotations[%d].id: duplicate id %d (first at annotations[%d])", i, a.ID, first))
		} else {
			annIDs[a.ID] = i
		}
		if _, ok := d.imageIndex[a.ImageID]; !ok {
			problems = append(problems, fmt.Sprintf("annotations[%d].image_id: unknown image %d", i, a.ImageID))
			continue
		}
		if _, ok := d.categoryIndex[a.CategoryID]; !ok {
			problems = append(problems, fmt.Sprintf("annotations[%d].category_id: unknown category %d", i, a.CategoryID))
			continue
		}
		d.annsByImage[a.ImageID] = append(d.annsByImage[a.ImageID], i)
		d.annsByCat[a.CategoryID] = append(d.annsByCat[a.CategoryID], i)
	}
	return problems
}

// NewDataset indexes and validates data built in memory (for example by a
// synthetic generator). The slices are kept, not copied.
func NewDataset(images []Image, anns []Annotation, cats []Category) (*Dataset, error) {
	d := &Dataset{Images: images, Annotations: anns, Categories: cats}
	var problems []string
	for i, a := range anns {
		problems = append(problems, checkAnnotation(i, a)...)
	}
	problems = append(problems, d.buildIndex()...)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return d, nil
}

// Image returns the image with the given id.
func (d *Dataset) Image(id int64) (Image, bool) {
	i, ok := d.imageIndex[id]
	if !ok {
		return Image{}, false
	}
	return d.Images[i], true
}

// Category returns the category with the given id.
func (d *Dataset) Category(id int64) (Category, bool) {
	i, ok := d.categoryIndex[id]
	if !ok {
		return Category{}, false
	}
	return d.Categories[i], true
}

// HasImage reports whether the data set lists the image id.
func (d *Dataset) HasImage(id int64) bool { _, ok := d.imageIndex[id]; return ok }

// HasCategory reports whether the data set lists the category id.
func (d *Dataset) HasCategory(id int64) bool { _, ok := d.categoryIndex[id]; return ok }

// ImageAnnotations returns the annotations of one image in file order.
func (d *Dataset) ImageAnnotations(imageID int64) []Annotation {
	return d.pick(d.annsByImage[imageID])
}

// CategoryAnnotations returns the annotations of one category in file order.
func (d *Dataset) CategoryAnnotations(categoryID int64) []Annotation {
	return d.pick(d.annsByCat[categoryID])
}

func (d *Dataset) pick(idx []int) []Annotation {
	out := make([]Annotation, len(idx))
	for i, j := range idx {
		out[i] = d.Annotations[j]
	}
	return out
}

// ImageIDs returns the image ids sorted ascending (pycocotools' imgIds order).
func (d *Dataset) ImageIDs() []int64 {
	ids := make([]int64, 0, len(d.imageIndex))
	for id := range d.imageIndex {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// CategoryIDs returns the category ids sorted ascending (pycocotools' catIds order).
func (d *Dataset) CategoryIDs() []int64 {
	ids := make([]int64, 0, len(d.categoryIndex))
	for id := range d.categoryIndex {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
