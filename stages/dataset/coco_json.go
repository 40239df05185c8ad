package dataset

// The COCO instances format as the synthetic set writes it. Field order and
// types are fixed so that the same data always encodes to the same bytes.

// Category is a COCO category.
type Category struct {
	ID            int    `json:"id"`
	Name          string `json:"name"`
	Supercategory string `json:"supercategory"`
}

type cocoInfo struct {
	Description string `json:"description"`
	Version     string `json:"version"`
	Year        int    `json:"year"`
	Contributor string `json:"contributor"`
	DateCreated string `json:"date_created"`
}

type cocoImage struct {
	ID       int64  `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

// cocoRLE is an uncompressed run-length mask: column-major counts starting
// with zeros, size [height, width].
type cocoRLE struct {
	Counts []int  `json:"counts"`
	Size   [2]int `json:"size"`
}

type cocoAnnotation struct {
	ID         int64      `json:"id"`
	ImageID    int64      `json:"image_id"`
	CategoryID int        `json:"category_id"`
	Bbox       [4]float64 `json:"bbox"`
	Area       float64    `json:"area"`
	IsCrowd    int        `json:"iscrowd"`
	// Segmentation is [][]float64 (polygons) or cocoRLE.
	Segmentation any `json:"segmentation"`
}

type cocoFile struct {
	Info        cocoInfo         `json:"info"`
	Licenses    []struct{}       `json:"licenses"`
	Images      []cocoImage      `json:"images"`
	Annotations []cocoAnnotation `json:"annotations"`
	Categories  []Category       `json:"categories"`
}
