// Package batch turns records into model inputs, as MMDetection's data
// pipeline does: decode the stored image, resize keeping the aspect ratio,
// flip horizontally (training), normalise per channel, and collate images
// padded to a multiple of the size divisor into one [N,3,H,W] tensor.
//
// Boxes are xyxy in pixels of the resized (and flipped) image, four values
// per box, without the legacy +1 convention. Training and inference share
// this package, so both see exactly the same pixels.
//
// Loader prepares batches on several goroutines ahead of their use, handing
// them back in order; the result does not depend on the number of workers.
package batch
