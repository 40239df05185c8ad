package evaluate

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/detflow/detflow/coco"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*shardRef)(nil)).Elem())
	// ImageEval holds []uint32 bit sets, which Beam's schema coder does not
	// take; these values go through gob instead.
	beam.RegisterCoder(reflect.TypeOf((*imageEval)(nil)).Elem(), encodeImageEval, decodeImageEval)
	beam.RegisterCoder(reflect.TypeOf((*evalBatch)(nil)).Elem(), encodeEvalBatch, decodeEvalBatch)
	beam.RegisterCoder(reflect.TypeOf((*evalSummary)(nil)).Elem(), encodeEvalSummary, decodeEvalSummary)
}

// shardRef is one element of the inference step: a records shard of the
// evaluated split, by number and file name, never its rows.
type shardRef struct {
	Index int
	File  string
	Rows  int
}

// imageEval is one image's COCO evaluation for one iou type, and the
// seconds its inference took (its share of its batch, data loading
// included).
type imageEval struct {
	Kind    string
	Seconds float64
	Eval    coco.ImageEval
}

// evalBatch is the combine's accumulator: the image evaluations of one iou
// type seen so far. Merging concatenates; coco.Accumulator ranks detections
// independently of the order images arrive in, so the result does not
// depend on how the runner splits and merges.
type evalBatch struct {
	Kind    string
	Seconds float64
	Evals   []coco.ImageEval
}

// evalSummary is what the combine hands back to the driver: small, whatever
// the number of images.
type evalSummary struct {
	Kind    string
	Images  int
	Seconds float64 // summed over images: one worker's inference time
	Stats   []float64
	Rows    []coco.Metric
	Text    string // COCOeval.summarize() printout
}

func gobEncode(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b.Bytes(), nil
}

func gobDecode(data []byte, v any) error {
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

func encodeImageEval(v imageEval) ([]byte, error) { return gobEncode(v) }

func decodeImageEval(data []byte) (imageEval, error) {
	var v imageEval
	return v, gobDecode(data, &v)
}

func encodeEvalBatch(v evalBatch) ([]byte, error) { return gobEncode(v) }

func decodeEvalBatch(data []byte) (evalBatch, error) {
	var v evalBatch
	return v, gobDecode(data, &v)
}

func encodeEvalSummary(v evalSummary) ([]byte, error) { return gobEncode(v) }

func decodeEvalSummary(data []byte) (evalSummary, error) {
	var v evalSummary
	return v, gobDecode(data, &v)
}
