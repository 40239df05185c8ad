// Package detector holds the detection networks built on the compute engine:
// a ResNet backbone, the FPN neck, the RPN head, the RoI head (multi-level
// RoIAlign, a Shared2FC box head and an optional FCN mask branch),
// RetinaNet's dense head, and the detectors assembled from them: FastRCNN
// (external proposals), RPN, FasterRCNN, their mask variants (model types
// FastMaskRCNN and MaskRCNN: the same detectors whose RoI head has the mask
// branch) and the single-stage RetinaNet. The box
// arithmetic, anchors, assignment, sampling, NMS and RoIAlign themselves are
// package detection's; this package turns them into trainable modules.
//
// # Shapes and boxes
//
// Images are [B,3,H,W] (B images, padded to a common size); feature maps are
// [B,C,H,W] with the level's stride. C2..C5 are the backbone's stage outputs
// (strides 4..32), P2..P6 the FPN's (strides 4..64); RetinaNet's FPN takes
// C3..C5 and adds P6, P7 by stride-2 convs (strides 8..128). Boxes are xyxy in pixels
// of the resized image (batch.Item's frame), without the legacy +1 unless
// model.legacy_plus_one is set; Detections are returned in original image
// pixels, and so are their masks (Detections.Masks, RLE, pasted into the
// original image). RoIs are R x 5 rows (image index, x1, y1, x2, y2).
//
// # Names
//
// Parameters carry MMDetection v2 state-dict names ("backbone.layer1.0.conv1.weight",
// "neck.lateral_convs.0.conv.weight", "rpn_head.rpn_conv.weight",
// "roi_head.bbox_head.shared_fcs.0.weight"), and the backbone alone carries
// torchvision's ResNet names, so ImageNet checkpoints load by name
// (LoadBackboneWeights: torchvision .pth, or Detectron's caffe-style .pkl
// through DetectronResNetStateDict). TorchvisionFasterRCNNStateDict maps a
// torchvision fasterrcnn_resnet50_fpn state dict onto these names
// (LoadTorchvisionFasterRCNN).
//
// # Training and inference modes
//
// Detectors start in training mode. Predict switches to eval mode (BN on
// running statistics) with grad off for its duration and restores the
// previous mode; Losses uses whatever mode is set (nn.SetTraining). BNs of
// frozen stages and all BNs under norm_eval stay in eval mode regardless.
//
// # Classes
//
// The box head's classifier has K+1 outputs with background LAST (index K),
// as MMDetection v2: foreground labels are 0..K-1 everywhere. Box regression
// is per class (4K outputs, class k at columns 4k..4k+3) unless class
// agnostic (4 outputs).
//
// # Losses
//
// Every head or branch returns its losses by name (Losses, a map): the RPN
// head "loss_rpn_cls" and "loss_rpn_bbox", the RoI head's box branch and
// RetinaNet's head "loss_cls" and "loss_bbox". A detector merges its parts' maps with
// MergeLosses, which refuses a name given twice, and the trainer, the train
// log and the loss plots take whatever names come. The RoI head trains in
// two steps: Sample assigns and samples each image's RoIs once
// (SampledRoIs, with each positive's assigned gt index, label and box), then
// each branch computes its losses from that sample (BoxLosses); the mask
// branch reads the same positives (SampledRoIs.Positives) beside it
// (MaskLosses: "loss_mask").
//
// The values follow MMDetection: the RPN's binary cross-entropy over the
// sampled anchors and smooth-L1 over the positive ones, both divided by the
// number of sampled anchors; the RoI head's cross-entropy over the sampled RoIs and
// smooth-L1 (or L1) over the positive ones, both divided by the number of
// sampled RoIs; the mask branch's binary cross-entropy over the positives'
// gt-class 28x28 maps, divided by the pixels of all the batch's positives
// together, exactly as MMDetection and torchvision. The one deviation is in
// the RPN and box losses: their divisor is taken per image and the
// per-image losses are averaged over the batch, where MMDetection divides
// the batch's sum by the batch's sample count. The two agree whenever every
// image fills its sampling budget (the usual case: 256 anchors, 512 RoIs),
// and the per-image form makes a batch's loss the mean of its images'
// losses, so data-parallel replicas average to exactly the single-replica
// gradient. The mask loss cannot take that form (positives per image vary
// widely, and both references weigh an image by its positives), so its
// data-parallel replicas average their own batch means, as MMDetection's
// GPUs do.
//
// RetinaNet samples nothing: every anchor is assigned (MaxIoU 0.5 / 0.4,
// each gt keeping its best anchor), the sigmoid focal loss runs over all
// but the ignored ones and smooth-L1 over the positives, both divided by
// the image's positive anchors and averaged over the images. That is
// torchvision's normalisation exactly and, by the same deviation, not
// MMDetection's batch-wide count of positives.
//
// # Concurrency
//
// A detector belongs to one tensor.Engine and, like it, is not safe for
// concurrent use: data-parallel replicas each build their own.
//
// # Randomness
//
// Weights are initialised from the *rand.Rand given to the constructors;
// sampling in Losses draws from the per-image generators passed in, so a
// run is reproduced by its seeds whatever the split of images over replicas.
package detector
