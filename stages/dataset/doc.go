// Package dataset is the first stage of every detflow pipeline: it
// materialises the data set named by the config, either the built-in
// synthetic one (source: synthetic, Synthesize) or a user's COCO-format data
// that it checks first (source: coco, Validate).
//
// # Synthetic shapes
//
// Synthesize writes a COCO instances data set that a small Fast R-CNN
// learns on a CPU in minutes, yet that exercises what COCO does:
//
//   - 9 categories told apart by shape alone: circle, square, triangle,
//     star, crescent, ring, cross, ellipse (axis ratio 0.45 to 0.6), diamond
//     (a rhombus 0.62 as wide as tall). There is no hexagon: at COCO-small
//     sizes a small CNN could not tell it from a circle. Squares, diamonds and crosses turn
//     at most 15 degrees so that none becomes another; the rest turn freely.
//   - Appearance varies within a category: saturated random colours, and
//     solid, striped, dotted, checkered or gradient fills (small objects
//     are mostly solid so that their shape stays visible).
//   - Cluttered backgrounds: a muted gradient, soft Gaussian blobs (no edge,
//     so nothing box-like) and thin lines, then uniform noise of +-8 grey
//     levels over everything.
//   - 3 to 8 objects per image (fewer only when 30 tries, shrinking the
//     object after 15, find no place for one), with sqrt(area) log-uniform
//     in [12, 150] pixels at 240 px image height (scaled with
//     min(width, height)/240), so COCO's small (< 32^2), medium and large
//     (> 96^2) ranges are all populated. Every object lies inside its image
//     with a 1 px margin.
//   - Partial occlusion: objects are placed largest first, each painted over
//     the ones before it, but a placement that would hide more than 40% of
//     an object below is tried elsewhere, so every object keeps at least 60%
//     of its pixels.
//   - Crowds: every 8th image (index 0, 8, 16, ...) holds one tight cluster
//     of 6 to 14 tiny objects of one category, annotated once with
//     iscrowd 1; no other object overlaps it.
//   - One object of image i has category i mod 9, so any split of 9 or more
//     images contains every category.
//
// Annotations are modal, as in COCO: they describe what is visible. area is
// the number of visible pixels (at least half covered by the object and by
// nothing above it). On each side of the box, when occlusion left the
// object's outermost pixels on that side visible, the box edge is the
// shape's exact extent (so an unoccluded object's box is exact, also at
// acute tips); otherwise it is the edge of the outermost visible pixel.
// segmentation is the exact outline polygon for an unoccluded object (a
// ring is one "keyhole" polygon, since COCO polygons have no holes) and the
// uncompressed RLE of the visible pixels for an occluded object or a crowd.
//
// Each image depends only on (seed, split, index): images render in
// parallel and the same seed gives byte-identical JPEGs and JSON for the
// same build (image/jpeg at a fixed quality; floating point may differ
// across CPU architectures).
//
// # Validating COCO data
//
// Validate checks a COCO instances file and its images and reports every
// broken rule (the Rule* constants) with a count and the first examples,
// each located by a JSON path such as annotations[12].bbox. Segmentations
// present must be polygons of at least 3 points (an even number of finite
// coordinates) or RLEs of their image's size whose counts cover it; for a
// model with a mask head (Stage.RequireMasks, from zoo.HasMasks) every
// non-crowd object needs one. Segmentation examples name the annotation id.
package dataset
