package detector

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/nn/pth"
)

// Backbone returns the detector's ResNet, for loading weights into it.
func Backbone(d Detector) (*ResNet, error) {
	switch m := d.(type) {
	case *FastRCNN:
		return m.Backbone, nil
	case *RPN:
		return m.Backbone, nil
	case *FasterRCNN:
		return m.Backbone, nil
	}
	return nil, fmt.Errorf("detector %T has no ResNet backbone", d)
}

// LoadBackboneWeights loads ImageNet weights from a torchvision ResNet
// checkpoint (resnet50-0676ba61.pth and the like, names "conv1.weight",
// "layer1.0.bn1.running_mean", ...) into the detector's backbone by name.
// The backbone of a detector checkpoint loads too: when the names carry
// "backbone.body." (torchvision detectors) or "backbone." (MMDetection,
// detflow), that prefix is removed and the other entries are ignored.
// The classifier ("fc.*") is reported unexpected, as MMDetection's loader
// does; missing keys mean the checkpoint does not fit the backbone. Shape
// mismatches are errors and load nothing. A path ending in ".pkl" is read as
// a Detectron caffe-style checkpoint (LoadDetectronBackboneWeights).
func LoadBackboneWeights(ctx context.Context, d Detector, path string) (nn.LoadReport, error) {
	if strings.HasSuffix(path, ".pkl") {
		return LoadDetectronBackboneWeights(ctx, d, path)
	}
	r, err := Backbone(d)
	if err != nil {
		return nn.LoadReport{}, fmt.Errorf("load backbone weights %s: %w", path, err)
	}
	sd, err := readPth(ctx, path)
	if err != nil {
		return nn.LoadReport{}, fmt.Errorf("load backbone weights %s: %w", path, err)
	}
	sd = backboneEntries(sd)
	rep, err := nn.LoadStateDict(r, sd, "num_batches_tracked")
	if err != nil {
		return nn.LoadReport{}, fmt.Errorf("load backbone weights %s: %w", path, err)
	}
	return rep, nil
}

// backboneEntries returns a classifier checkpoint as it is, and the
// backbone part of a detector checkpoint with its prefix removed.
func backboneEntries(sd map[string]nn.HostTensor) map[string]nn.HostTensor {
	if _, ok := sd["conv1.weight"]; ok {
		return sd
	}
	for _, prefix := range []string{"backbone.body.", "backbone."} {
		if _, ok := sd[prefix+"conv1.weight"]; !ok {
			continue
		}
		out := map[string]nn.HostTensor{}
		for k, v := range sd {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				out[rest] = v
			}
		}
		return out
	}
	return sd
}

// TorchvisionFasterRCNNStateDict maps a torchvision fasterrcnn_resnet50_fpn
// or maskrcnn_resnet50_fpn state dict (model.state_dict()) onto
// FasterRCNN's names (a MaskRCNN is a FasterRCNN with a mask branch):
//
//	backbone.body.X                         -> backbone.X
//	backbone.fpn.inner_blocks.i[.0].P       -> neck.lateral_convs.i.conv.P
//	backbone.fpn.layer_blocks.i[.0].P       -> neck.fpn_convs.i.conv.P
//	rpn.head.conv[.0.0].P                   -> rpn_head.rpn_conv.P
//	rpn.head.cls_logits.P                   -> rpn_head.rpn_cls.P
//	rpn.head.bbox_pred.P                    -> rpn_head.rpn_reg.P
//	roi_heads.box_head.fc6.P, fc7.P         -> roi_head.bbox_head.shared_fcs.0.P, .1.P
//	roi_heads.box_predictor.cls_score.P     -> roi_head.bbox_head.fc_cls.P, rows reordered
//	roi_heads.box_predictor.bbox_pred.P     -> roi_head.bbox_head.fc_reg.P, background rows dropped
//	roi_heads.mask_head.i.0.P               -> roi_head.mask_head.convs.i.conv.P
//	roi_heads.mask_predictor.conv5_mask.P   -> roi_head.mask_head.upsample.P
//	roi_heads.mask_predictor.mask_fcn_logits.P -> roi_head.mask_head.conv_logits.P, background row dropped
//
// torchvision puts background at class 0 and regresses it too; here it is
// the last class and not regressed, so fc_cls takes rows 1..K then row 0,
// and fc_reg rows 4..4K+3; the mask logits keep channels 1..K. FrozenBatchNorm2d has no num_batches_tracked,
// which is never reported missing. The names of entries that match no rule
// are returned (normally none). Differences that remain after loading:
// torchvision rounds its base anchors to integers and clamps decoded sizes
// only from above; its RoIAlign level uses canonical scale 224 at level 4,
// the same mapping as finest scale 56 up to the 1e-6 epsilon.
func TorchvisionFasterRCNNStateDict(sd map[string]nn.HostTensor) (map[string]nn.HostTensor, []string, error) {
	return ToDetflow(sd, LayoutTorchvision)
}

// rowsOf returns the number of rows (first dimension) and the row length.
func rowsOf(t nn.HostTensor) (rows, width int, err error) {
	if len(t.Shape) == 0 || t.Shape[0] == 0 {
		return 0, 0, fmt.Errorf("shape %v has no rows", t.Shape)
	}
	rows = t.Shape[0]
	if len(t.Data)%rows != 0 {
		return 0, 0, fmt.Errorf("%d values for shape %v", len(t.Data), t.Shape)
	}
	return rows, len(t.Data) / rows, nil
}

// backgroundLast moves row 0 (torchvision's background) to the end.
func backgroundLast(t nn.HostTensor) (nn.HostTensor, error) {
	_, w, err := rowsOf(t)
	if err != nil {
		return nn.HostTensor{}, err
	}
	data := make([]float32, 0, len(t.Data))
	data = append(data, t.Data[w:]...)
	data = append(data, t.Data[:w]...)
	return nn.HostTensor{Shape: slices.Clone(t.Shape), Data: data}, nil
}

// dropBackgroundDeltas removes the first 4 rows (background's deltas).
func dropBackgroundDeltas(t nn.HostTensor) (nn.HostTensor, error) {
	rows, _, err := rowsOf(t)
	if err != nil {
		return nn.HostTensor{}, err
	}
	if rows%4 != 0 || rows < 8 {
		return nn.HostTensor{}, fmt.Errorf("%d regression rows: want 4 per class, background included", rows)
	}
	return dropRows(t, 4)
}

// dropRows removes the first n rows (background's), keeping at least one.
func dropRows(t nn.HostTensor, n int) (nn.HostTensor, error) {
	rows, w, err := rowsOf(t)
	if err != nil {
		return nn.HostTensor{}, err
	}
	if rows <= n {
		return nn.HostTensor{}, fmt.Errorf("%d rows: want more than the %d of the background", rows, n)
	}
	shape := slices.Clone(t.Shape)
	shape[0] = rows - n
	return nn.HostTensor{Shape: shape, Data: slices.Clone(t.Data[n*w:])}, nil
}

// readPth reads a torch.save'd state dict into host tensors (integer
// tensors converted to float32).
func readPth(ctx context.Context, path string) (map[string]nn.HostTensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sd, err := pth.Load(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]nn.HostTensor, sd.Len())
	for _, name := range sd.Names {
		t := sd.Tensors[name]
		ht := nn.HostTensor{Shape: slices.Clone(t.Shape), Data: t.F32}
		if !t.IsFloat() {
			ht.Data = make([]float32, len(t.I64))
			for i, v := range t.I64 {
				ht.Data[i] = float32(v)
			}
		}
		out[name] = ht
	}
	return out, nil
}

// LoadTorchvisionFasterRCNN loads a torchvision fasterrcnn_resnet50_fpn
// checkpoint into d (see TorchvisionFasterRCNNStateDict for the mapping).
// The detector's BNs should be frozen (norm_eval), as torchvision's are.
// Entries matching no rule are reported as unexpected.
func LoadTorchvisionFasterRCNN(ctx context.Context, d *FasterRCNN, path string) (nn.LoadReport, error) {
	sd, err := readPth(ctx, path)
	if err != nil {
		return nn.LoadReport{}, fmt.Errorf("load torchvision faster r-cnn %s: %w", path, err)
	}
	mapped, unmapped, err := TorchvisionFasterRCNNStateDict(sd)
	if err != nil {
		return nn.LoadReport{}, fmt.Errorf("load torchvision faster r-cnn %s: %w", path, err)
	}
	rep, err := nn.LoadStateDict(d, mapped, "num_batches_tracked")
	if err != nil {
		return nn.LoadReport{}, fmt.Errorf("load torchvision faster r-cnn %s: %w", path, err)
	}
	rep.Unexpected = append(rep.Unexpected, unmapped...)
	return rep, nil
}
