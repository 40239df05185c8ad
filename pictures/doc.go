// Package pictures draws what a detector saw and said onto images: boxes,
// labels and translucent masks in one colour per class, panels side by
// side, and a labelled matrix of numbers (a confusion matrix). It only
// draws; choosing what to draw (which images, which detections) is the
// caller's.
//
// Boxes are coco.Box, [x, y, w, h] in image pixels. Text is Go's 7x13
// bitmap face (golang.org/x/image/font/basicfont): every build rasterises it
// the same way and it stays legible on small images, so pictures of the
// same input are byte-identical across machines.
//
// Labels are placed so that they stay inside the image and, where the
// image leaves room, do not cover one another: each label tries the
// corners of its box, outside then inside, in a fixed order, and takes the
// first free spot (the one least covered when none is free). Items are
// labelled in the order given, so callers pass the most important first.
package pictures
