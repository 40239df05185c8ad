package detector

import (
	"fmt"

	"github.com/detflow/detflow/batch"
)

// imageGT is one image's ground truth split the way the assigners want it:
// crowd boxes never become targets; they are ignore regions (used only when
// the assigner's ignore_iof_thr is on, as MMDetection's gt_bboxes_ignore).
type imageGT struct {
	boxes  []float32 // xyxy, non-crowd
	labels []int
	index  []int     // each non-crowd gt's index in the item's GTBoxes/GTLabels
	crowd  []float32 // xyxy
}

// splitGT separates an item's crowd and non-crowd boxes and checks the
// labels against numClasses (not checked when numClasses <= 0: the RPN).
func splitGT(it *batch.Item, numClasses int) (imageGT, error) {
	n := len(it.GTLabels)
	if len(it.GTBoxes) != 4*n {
		return imageGT{}, fmt.Errorf("image %d: %d gt box values for %d labels", it.ImageID, len(it.GTBoxes), n)
	}
	if len(it.GTCrowd) != 0 && len(it.GTCrowd) != n {
		return imageGT{}, fmt.Errorf("image %d: %d crowd flags for %d labels", it.ImageID, len(it.GTCrowd), n)
	}
	var g imageGT
	for i := 0; i < n; i++ {
		box := it.GTBoxes[4*i : 4*i+4]
		if len(it.GTCrowd) > 0 && it.GTCrowd[i] {
			g.crowd = append(g.crowd, box...)
			continue
		}
		l := int(it.GTLabels[i])
		if l < 0 || (numClasses > 0 && l >= numClasses) {
			return imageGT{}, fmt.Errorf("image %d: gt label %d outside 0..%d", it.ImageID, l, numClasses-1)
		}
		g.boxes = append(g.boxes, box...)
		g.labels = append(g.labels, l)
		g.index = append(g.index, i)
	}
	return g, nil
}
