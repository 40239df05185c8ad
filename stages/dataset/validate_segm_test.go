package dataset

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/coco"
)

// withMasks gives every annotation of the base document a valid
// segmentation: a polygon for the first, a compressed and an uncompressed
// RLE of the image's size for the others.
func withMasks(d map[string]any) {
	anns := annotations(d)
	field(anns, 0)["segmentation"] = []any{[]any{1, 2, 11, 2, 11, 10, 1, 10}}
	box := coco.BoxToRLE(coco.Box{0, 0, 40, 30}, imgH, imgW)
	field(anns, 1)["segmentation"] = map[string]any{"size": []any{imgH, imgW}, "counts": box.String()}
	counts := []any{}
	for _, c := range coco.BoxToRLE(coco.Box{5, 6, 3, 4}, imgH, imgW).Counts {
		counts = append(counts, c)
	}
	field(anns, 2)["segmentation"] = map[string]any{"size": []any{imgH, imgW}, "counts": counts}
}

func validateDoc(t *testing.T, doc map[string]any, requireMasks bool, raw func(string) string) error {
	t.Helper()
	dir, root := validFixture(t)
	js := string(marshal(t, doc))
	if raw != nil {
		js = raw(js)
	}
	ann := filepath.Join(dir, "instances.json")
	writeFile(t, ann, []byte(js))
	r, err := Validate(context.Background(), localFS(t), ValidateOptions{Annotations: ann, ImageRoot: root, RequireMasks: requireMasks})
	if err != nil {
		t.Fatal(err)
	}
	return r.Err()
}

func TestValidateAcceptsSegmentations(t *testing.T) {
	doc := baseDoc()
	withMasks(doc)
	if err := validateDoc(t, doc, true, nil); err != nil {
		t.Errorf("valid masks rejected: %v", err)
	}
	// Without a mask head, objects need no segmentation.
	if err := validateDoc(t, baseDoc(), false, nil); err != nil {
		t.Errorf("box-only set rejected: %v", err)
	}
	// A crowd needs none either.
	doc = baseDoc()
	withMasks(doc)
	delete(field(annotations(doc), 1), "segmentation")
	field(annotations(doc), 1)["iscrowd"] = 1
	if err := validateDoc(t, doc, true, nil); err != nil {
		t.Errorf("crowd without segmentation rejected: %v", err)
	}
}

func TestValidateRejectsBadSegmentations(t *testing.T) {
	seg := func(i int, v any) func(d map[string]any) {
		return func(d map[string]any) { field(annotations(d), i)["segmentation"] = v }
	}
	for _, c := range []struct {
		name         string
		edit         func(d map[string]any)
		raw          func(string) string
		requireMasks bool
		want         []string
	}{{
		name: "missing when masks are needed", requireMasks: true,
		edit: func(d map[string]any) { delete(field(annotations(d), 2), "segmentation") },
		want: []string{RuleSegmMissing + ": 1", "annotations[2].segmentation = null (annotation id 3)"},
	}, {
		name: "empty list when masks are needed", requireMasks: true,
		edit: seg(0, []any{}),
		want: []string{RuleSegmMissing + ": 1", "annotations[0].segmentation = [] (annotation id 1)"},
	}, {
		name: "odd coordinate count",
		edit: seg(0, []any{[]any{1, 2, 11, 2, 11, 10, 1}}),
		want: []string{RuleSegmPolygonOdd + ": 1", "annotations[0].segmentation[0] = [1,2,11,2,11,10,1] (annotation id 1, 7 coordinates)"},
	}, {
		name: "two points",
		edit: seg(1, []any{[]any{1, 2, 3, 4, 5, 6, 7, 8}, []any{1, 2, 11, 2}}),
		want: []string{RuleSegmPolygonShort + ": 1", "annotations[1].segmentation[1] = [1,2,11,2] (annotation id 2, 2 points)"},
	}, {
		name: "NaN coordinate",
		edit: seg(0, []any{[]any{1, 2, 7777, 2, 11, 10}}),
		raw:  func(js string) string { return strings.Replace(js, "7777", "NaN", 1) },
		want: []string{RuleSegmMalformed + ": 1", `annotations[0].segmentation[0] = [1,2,"NaN",2,11,10] (annotation id 1)`},
	}, {
		name: "neither polygons nor RLE",
		edit: seg(0, "circle"),
		want: []string{RuleSegmMalformed + ": 1", `annotations[0].segmentation = "circle" (annotation id 1)`},
	}, {
		name: "RLE counts short",
		edit: seg(2, map[string]any{"size": []any{imgH, imgW}, "counts": []any{100, 20, 3}}),
		want: []string{RuleSegmRLECounts + ": 1", "annotations[2].segmentation.counts = [100,20,3] (annotation id 3, counts sum to 123, size [30, 40] has 1200 pixels)"},
	}, {
		name: "compressed RLE counts long",
		edit: seg(2, map[string]any{"size": []any{imgH, imgW}, "counts": coco.BoxToRLE(coco.Box{0, 0, 40, 31}, 31, 40).String()}),
		want: []string{RuleSegmRLECounts + ": 1", "annotation id 3, counts sum to 1240, size [30, 40] has 1200 pixels"},
	}, {
		name: "RLE size unlike the image's",
		edit: seg(1, map[string]any{"size": []any{imgW, imgH}, "counts": []any{1200}}),
		want: []string{RuleSegmRLESize + ": 1", "annotations[1].segmentation.size = [40,30] (annotation id 2, image is 40x30 (size is [height, width]))"},
	}, {
		name: "RLE counts garbage",
		edit: seg(1, map[string]any{"size": []any{imgH, imgW}, "counts": []any{-1, 5}}),
		want: []string{RuleSegmMalformed + ": 1", "annotations[1].segmentation.counts = [-1,5] (annotation id 2)"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			doc := baseDoc()
			withMasks(doc)
			c.edit(doc)
			err := validateDoc(t, doc, c.requireMasks, c.raw)
			if err == nil {
				t.Fatalf("accepted; want %q", c.want)
			}
			for _, w := range append(c.want, "instances.json") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
		})
	}
}
