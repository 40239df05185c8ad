package train

import (
	"strings"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/stages/records"
)

func TestTooFewClassesFailsNamingKeyAndCategory(t *testing.T) {
	idx := &records.Index{Split: "train"}
	for i, name := range []string{"circle", "square", "triangle", "star", "giraffe"} {
		idx.Categories = append(idx.Categories, records.CategoryLabel{ID: int64(10 + i), Label: int32(i), Name: name})
	}
	for _, tt := range []struct {
		config, key, classes string
		want                 []string // empty: accepted
	}{
		{configs.Default, "model.roi_head.bbox_head.num_classes", "5", nil},
		{configs.Default, "model.roi_head.bbox_head.num_classes", "9", nil},
		{configs.Default, "model.roi_head.bbox_head.num_classes", "3", []string{"model.roi_head.bbox_head.num_classes is 3", "5 categories", `category id 13 "star" (label 3)`, "num_classes=5"}},
		{"retinanet_tiny_synth", "model.bbox_head.num_classes", "5", nil},
		{"retinanet_tiny_synth", "model.bbox_head.num_classes", "4", []string{"model.bbox_head.num_classes is 4", `category id 14 "giraffe" (label 4)`}},
	} {
		cfg, err := configs.Load(tt.config, []string{tt.key + "=" + tt.classes})
		if err != nil {
			t.Fatal(err)
		}
		err = checkNumClasses(cfg, idx)
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("num_classes %s: %v", tt.classes, err)
			}
			continue
		}
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("num_classes %s: error %v, want it to contain %q", tt.classes, err, w)
			}
		}
	}
}
