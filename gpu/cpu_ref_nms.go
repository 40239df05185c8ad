package gpu

// CPU twin of gpu/kernels/nms.cu plus the host's greedy pass: the slow,
// obvious NMS (torchvision's _reference_nms) over boxes already sorted by
// descending score.

// iouRef is the kernel's IoU, area (x2-x1)*(y2-y1) without +1.
func iouRef(a, b []float32) float32 {
	l, t := max(a[0], b[0]), max(a[1], b[1])
	r, d := min(a[2], b[2]), min(a[3], b[3])
	inter := max(r-l, 0) * max(d-t, 0)
	areaA := (a[2] - a[0]) * (a[3] - a[1])
	areaB := (b[2] - b[0]) * (b[3] - b[1])
	return inter / (areaA + areaB - inter)
}

// nmsRef keeps box i unless a kept box before it overlaps it with
// IoU > thr. boxes is n×4, sorted by score, descending.
func nmsRef(boxes []float32, n int, thr float32) []int {
	var keep []int
	for i := 0; i < n; i++ {
		ok := true
		for _, j := range keep {
			if iouRef(boxes[j*4:j*4+4], boxes[i*4:i*4+4]) > thr {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, i)
		}
	}
	return keep
}

// nmsMaskRef fills the kernel's N×colBlocks bitmask.
func nmsMaskRef(boxes []float32, n int, thr float32) []uint64 {
	cb := (n + 63) / 64
	mask := make([]uint64, n*cb)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if iouRef(boxes[i*4:i*4+4], boxes[j*4:j*4+4]) > thr {
				mask[i*cb+j/64] |= 1 << (j % 64)
			}
		}
	}
	return mask
}

// nmsFromMask is the host's greedy pass over the kernel's bitmask: walk the
// rows in score order; a box not yet removed is kept and removes the boxes
// its row marks.
func nmsFromMask(mask []uint64, n int) []int {
	cb := (n + 63) / 64
	removed := make([]uint64, cb)
	var keep []int
	for i := 0; i < n; i++ {
		if removed[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		keep = append(keep, i)
		row := mask[i*cb : (i+1)*cb]
		for b := i / 64; b < cb; b++ {
			removed[b] |= row[b]
		}
	}
	return keep
}
