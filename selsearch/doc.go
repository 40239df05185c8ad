// Package selsearch finds object proposals without a model: selective search
// (Uijlings, van de Sande, Gevers and Smeulders, "Selective Search for Object
// Recognition", IJCV 104(2), 2013).
//
// The algorithm, in the steps its files are named after:
//
//  1. colorspace.go: the image in one or more colour spaces (HSV, Lab, and
//     for the quality mode intensity, hue and normalised rg plus intensity),
//     8 bits per channel with OpenCV's scaling (H in [0, 180), Lab L*255/100,
//     a and b offset by 128).
//  2. segment.go: Felzenszwalb and Huttenlocher's graph-based segmentation
//     (IJCV 59(2), 2004) of each colour image for each scale k: Gaussian
//     smoothing (sigma), an 8-connected pixel graph weighted by the Euclidean
//     colour distance, edges in ascending weight order, a merge when the edge
//     is no heavier than both components' internal difference plus k/|C|,
//     then components below MinRegion pixels joined to a neighbour.
//  3. features.go: per initial region a colour histogram (25 bins per
//     channel) and a texture histogram (Gaussian derivatives with sigma 1 in
//     8 orientations, 10 bins each, per channel), both L1-normalised.
//  4. grouping.go and similarity.go: hierarchical grouping that repeatedly
//     merges the most similar pair of adjacent regions until one is left; a
//     strategy's similarity is the mean of the measures it uses: colour and
//     texture histogram intersection, size 1 - (|a|+|b|)/|image| and fill
//     1 - (|BB(a∪b)| - |a| - |b|)/|image|.
//  5. rank.go: every region of every hierarchy becomes a box; the paper's
//     ranking gives the region created at position i of its hierarchy (i = 1
//     is the region covering the whole image) the value RND*i, boxes are
//     sorted by that value and duplicates are removed, keeping the first.
//     RND comes from a generator seeded by Options.Seed, so results are
//     reproducible.
//
// Modes follow the paper's "fast" and "quality" settings with OpenCV's
// default scales (base_k 150, inc_k 150, sigma 0.8, minimum region 100):
//
//	fast:    HSV, Lab; k = base_k, base_k+inc_k; strategies C+T+S+F, T+S+F
//	quality: HSV, Lab, I, H, rgI; k = base_k + i*inc_k for i < 4;
//	         strategies C+T+S+F, T+S+F, F, S
//
// OpenCV's switchToSelectiveSearchFast uses three k values (and Quality five);
// this package uses the paper's counts, as the detflow config documents.
//
// Boxes are [x1, y1, x2, y2] in pixels with exclusive ends: a region whose
// pixels span columns 3..7 has x1 = 3 and x2 = 8, so x2-x1 is its width in
// pixels, as in COCO's [x, y, w, h].
package selsearch
