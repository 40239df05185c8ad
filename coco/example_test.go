package coco_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/detflow/detflow/coco"
)

// One small object found exactly: AP and AR are 1 wherever there is ground
// truth, and -1 for the medium and large buckets, which have none.
func ExampleEvaluateFiles() {
	gt := `{"images": [{"id": 1, "width": 64, "height": 64}],
	        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 4, 10, 10], "area": 100, "iscrowd": 0}],
	        "categories": [{"id": 1, "name": "person"}]}`
	results := `[{"image_id": 1, "category_id": 1, "bbox": [4, 4, 10, 10], "score": 0.9}]`
	res, err := coco.EvaluateFiles(context.Background(), strings.NewReader(gt), strings.NewReader(results), coco.BBox)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Summary(os.Stdout)
	for _, row := range res.Rows()[:3] {
		// Precision is tp/(tp+fp+eps) as in pycocotools, so a perfect score
		// is 0.9999999999999998, which prints as 1.000.
		fmt.Printf("%s=%.3f\n", row.Name, row.Value)
	}
	// Output:
	//  Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000
	//  Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000
	//  Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 1.000
	//  Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 1.000
	//  Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000
	//  Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000
	//  Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 1.000
	//  Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 1.000
	//  Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000
	//  Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 1.000
	//  Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000
	//  Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000
	// bbox_mAP=1.000
	// bbox_mAP_50=1.000
	// bbox_mAP_75=1.000
}

// Workers evaluate disjoint sets of images; one accumulator merges their
// ImageEvals in whatever order they arrive.
func ExampleAccumulator() {
	ctx := context.Background()
	gtFile, _ := os.Open("testdata/parity/edge.gt.json")
	defer gtFile.Close()
	resFile, _ := os.Open("testdata/parity/edge.res.json")
	defer resFile.Close()
	gt, err := coco.LoadDataset(ctx, gtFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	dets, err := coco.ReadResults(ctx, resFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := coco.NewParams(coco.BBox)
	if err != nil {
		fmt.Println(err)
		return
	}
	ev, err := coco.NewEvaluator(gt, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	byImage := map[int64][]coco.Detection{}
	for _, d := range dets {
		byImage[d.ImageID] = append(byImage[d.ImageID], d)
	}
	// Each "worker" handles every other image; results arrive last first.
	var evals []coco.ImageEval
	ids := gt.ImageIDs()
	for worker := range 2 {
		for i := worker; i < len(ids); i += 2 {
			ie, err := ev.EvaluateImage(ids[i], byImage[ids[i]])
			if err != nil {
				fmt.Println(err)
				return
			}
			evals = append(evals, ie)
		}
	}
	acc := ev.NewAccumulator()
	for i := len(evals) - 1; i >= 0; i-- {
		if err := acc.Add(evals[i]); err != nil {
			fmt.Println(err)
			return
		}
	}
	res, err := acc.Accumulate(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("bbox_mAP %.17g (pycocotools: 0.20722200222821505)\n", res.Stats[0])
	// Output:
	// bbox_mAP 0.20722200222821505 (pycocotools: 0.20722200222821505)
}

// A polygon rasterised as pycocotools does it, its compressed RLE string
// (what a results file holds), and mask IoU against a box's mask.
func ExamplePolygonToRLE() {
	// The square (1,1)-(5,5) on an 8x8 image covers pixel columns and rows 1..4.
	r := coco.PolygonToRLE([]float64{1, 1, 5, 1, 5, 5, 1, 5}, 8, 8)
	fmt.Println(r.Area(), r.BBox(), r.String())
	back, err := coco.ParseRLEString(r.String(), 8, 8)
	fmt.Println(back.Counts, err)
	half := coco.BoxToRLE(coco.Box{1, 1, 4, 2}, 8, 8)
	fmt.Println(coco.MaskIoU(half, r, false), coco.MaskIoU(half, r, true))
	// Output:
	// 16 [1 1 4 4] 94400000g0
	// [9 4 4 4 4 4 4 4 27] <nil>
	// 0.5 1
}
