package coco

// boxIoUs is computeIoU for boxes: maskApi.c's bbIou over every pair.
func boxIoUs(_ imageSize, dts []Detection, gts []gtObject, ious []float64) error {
	G := len(gts)
	for d := range dts {
		for g := range gts {
			ious[d*G+g] = boxIoU(dts[d].BBox, gts[g].box, gts[g].crowd)
		}
	}
	return nil
}

// boxArea is the area loadRes gives a box result: w*h.
func boxArea(d *Detection) float64 { return d.BBox.Area() }

// boxIoU is maskApi.c's bbIou for one pair, in float64 with the same
// operation order so results are bit-identical to pycocotools. Against a
// crowd region the union is the detection's own area (intersection over
// detection), so a detection inside a crowd scores 1 however big the crowd.
// Boxes that do not overlap, or only touch, score 0.
func boxIoU(dt, gt Box, crowd bool) float64 {
	w := min(dt[2]+dt[0], gt[2]+gt[0]) - max(dt[0], gt[0])
	if w <= 0 {
		return 0
	}
	h := min(dt[3]+dt[1], gt[3]+gt[1]) - max(dt[1], gt[1])
	if h <= 0 {
		return 0
	}
	i := w * h
	da := dt[2] * dt[3]
	if crowd {
		return i / da
	}
	ga := gt[2] * gt[3]
	return i / (da + ga - i)
}
