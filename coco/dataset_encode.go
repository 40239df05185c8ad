package coco

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// WriteDataset writes an instances file (images, annotations, categories)
// that LoadDataset and pycocotools read back to the same values; a loaded
// segmentation is written as a compressed RLE.
func WriteDataset(ctx context.Context, w io.Writer, d *Dataset) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(`{"images":[`)
	for i, img := range d.Images {
		if err := writeJSONElement(bw, i, img); err != nil {
			return fmt.Errorf("write images[%d]: %w", i, err)
		}
	}
	bw.WriteString("],\n\"annotations\":[")
	buf := make([]byte, 0, 256)
	for i, a := range d.Annotations {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var err error
		if buf, err = appendAnnotation(buf[:0], a); err != nil {
			return fmt.Errorf("write annotations[%d]: %w", i, err)
		}
		if i > 0 {
			bw.WriteString(",\n")
		}
		bw.Write(buf)
	}
	bw.WriteString("],\n\"categories\":[")
	for i, c := range d.Categories {
		if err := writeJSONElement(bw, i, c); err != nil {
			return fmt.Errorf("write categories[%d]: %w", i, err)
		}
	}
	bw.WriteString("]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write instances: %w", err)
	}
	return nil
}

func writeJSONElement(bw *bufio.Writer, i int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if i > 0 {
		bw.WriteString(",\n")
	}
	_, err = bw.Write(b)
	return err
}

func appendAnnotation(b []byte, a Annotation) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, a.ID, 10)
	b = append(b, `,"image_id":`...)
	b = strconv.AppendInt(b, a.ImageID, 10)
	b = append(b, `,"category_id":`...)
	b = strconv.AppendInt(b, a.CategoryID, 10)
	b = append(b, `,"bbox":[`...)
	var err error
	for k, v := range a.BBox {
		if k > 0 {
			b = append(b, ',')
		}
		if b, err = appendJSONFloat(b, v); err != nil {
			return nil, fmt.Errorf("bbox[%d]: %w", k, err)
		}
	}
	b = append(b, `],"area":`...)
	if b, err = appendJSONFloat(b, a.Area); err != nil {
		return nil, fmt.Errorf("area: %w", err)
	}
	crowd := "0"
	if a.IsCrowd {
		crowd = "1"
	}
	b = append(b, `,"iscrowd":`...)
	b = append(b, crowd...)
	if a.Segmentation != nil {
		b = append(b, `,"segmentation":`...)
		b = appendRLEJSON(b, *a.Segmentation)
	}
	return append(b, '}'), nil
}

// appendRLEJSON writes {"size":[h,w],"counts":"..."}.
func appendRLEJSON(b []byte, r RLE) []byte {
	return appendCompressedJSON(b, r.H, r.W, string(AppendRLEString(nil, r.Counts)))
}

// appendCompressedJSON writes an RLE object; of the counts alphabet
// ('0'..'o') only the backslash needs a JSON escape.
func appendCompressedJSON(b []byte, h, w int, counts string) []byte {
	b = append(b, `{"size":[`...)
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(w), 10)
	b = append(b, `],"counts":"`...)
	for i := 0; i < len(counts); i++ {
		if counts[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, counts[i])
	}
	return append(b, `"}`...)
}
