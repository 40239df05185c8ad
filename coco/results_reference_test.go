package coco

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// readResultsReference is the plain encoding/json version of ReadResults,
// the oracle its fast row parser is tested against.
func readResultsReference(ctx context.Context, r io.Reader) ([]Detection, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	var dets []Detection
	var problems problemList
	rd := resultReader{polygons: true}
	err := decodeArray(ctx, dec, "results", func(i int) error {
		var w wireDetection
		if err := dec.Decode(&w); err != nil {
			return err
		}
		if i == 0 {
			rd.masks = w.masksFirst() // loadRes's branch, from row 0
		}
		if d, ok := rd.detection(i, w, &problems); ok {
			dets = append(dets, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("decode results: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("decode results: unexpected data after the array")
	}
	if err := problems.err(); err != nil {
		return nil, fmt.Errorf("validate results: %w", err)
	}
	return dets, nil
}
