package detector

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/detflow/detflow/nn"
)

// Layout names a checkpoint's key layout: whose names its state dict uses.
type Layout string

// The layouts model.load_from recognises. detflow's own names are
// MMDetection v2/v3's, so one layout serves both.
const (
	LayoutDetflow     Layout = "detflow/mmdet-v2"
	LayoutMMDetV1     Layout = "mmdet-v1"
	LayoutTorchvision Layout = "torchvision"
	LayoutDetectron2  Layout = "detectron2"
	LayoutClassifier  Layout = "classifier"
)

// renameRule maps a name prefix of another layout onto detflow's. "{i}"
// in both stands for a decimal index. ImportOnly rules read older variants
// of a layout and are skipped on export.
type renameRule struct {
	theirs, ours string
	importOnly   bool
}

// renameTable is a compiled list of renameRules; the first match wins.
type renameTable struct {
	rules    []renameRule
	in, back []*regexp.Regexp
}

func newRenameTable(rules []renameRule) *renameTable {
	t := &renameTable{rules: rules}
	for _, r := range rules {
		t.in = append(t.in, prefixPattern(r.theirs))
		t.back = append(t.back, prefixPattern(r.ours))
	}
	return t
}

// prefixPattern compiles a rule side into ^prefix(rest)$ with {i} as (\d+).
func prefixPattern(p string) *regexp.Regexp {
	q := strings.ReplaceAll(regexp.QuoteMeta(p), `\{i\}`, `(\d+)`)
	return regexp.MustCompile("^" + q + "(.*)$")
}

// apply rewrites name by the first rule whose from side matches.
func apply(name string, from []*regexp.Regexp, to func(renameRule) string, rules []renameRule, skip func(renameRule) bool) (string, bool) {
	for i, re := range from {
		if skip != nil && skip(rules[i]) {
			continue
		}
		m := re.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		out := to(rules[i])
		for _, idx := range m[1 : len(m)-1] {
			out = strings.Replace(out, "{i}", idx, 1)
		}
		return out + m[len(m)-1], true
	}
	return "", false
}

// toOurs maps a name of the table's layout onto detflow's.
func (t *renameTable) toOurs(name string) (string, bool) {
	return apply(name, t.in, func(r renameRule) string { return r.ours }, t.rules, nil)
}

// toTheirs maps a detflow name back (for export).
func (t *renameTable) toTheirs(name string) (string, bool) {
	return apply(name, t.back, func(r renameRule) string { return r.theirs }, t.rules,
		func(r renameRule) bool { return r.importOnly })
}

// torchvisionNames covers fasterrcnn_resnet50_fpn, maskrcnn_resnet50_fpn and
// retinanet_resnet50_fpn
// (torchvision >= 0.13 wraps convs in Conv2dNormActivation: ".0." and
// ".0.0."; the older names are read too).
var torchvisionNames = newRenameTable([]renameRule{
	{theirs: "backbone.body.", ours: "backbone."},
	{theirs: "backbone.fpn.inner_blocks.{i}.0.", ours: "neck.lateral_convs.{i}.conv."},
	{theirs: "backbone.fpn.inner_blocks.{i}.", ours: "neck.lateral_convs.{i}.conv.", importOnly: true},
	{theirs: "backbone.fpn.layer_blocks.{i}.0.", ours: "neck.fpn_convs.{i}.conv."},
	{theirs: "backbone.fpn.layer_blocks.{i}.", ours: "neck.fpn_convs.{i}.conv.", importOnly: true},
	{theirs: "backbone.fpn.extra_blocks.p6.", ours: "neck.fpn_convs.3.conv."},
	{theirs: "backbone.fpn.extra_blocks.p7.", ours: "neck.fpn_convs.4.conv."},
	{theirs: "rpn.head.conv.0.0.", ours: "rpn_head.rpn_conv."},
	{theirs: "rpn.head.conv.", ours: "rpn_head.rpn_conv.", importOnly: true},
	{theirs: "rpn.head.cls_logits.", ours: "rpn_head.rpn_cls."},
	{theirs: "rpn.head.bbox_pred.", ours: "rpn_head.rpn_reg."},
	{theirs: "roi_heads.box_head.fc6.", ours: "roi_head.bbox_head.shared_fcs.0."},
	{theirs: "roi_heads.box_head.fc7.", ours: "roi_head.bbox_head.shared_fcs.1."},
	{theirs: "roi_heads.box_predictor.cls_score.", ours: "roi_head.bbox_head.fc_cls."},
	{theirs: "roi_heads.box_predictor.bbox_pred.", ours: "roi_head.bbox_head.fc_reg."},
	{theirs: "roi_heads.mask_head.{i}.0.", ours: "roi_head.mask_head.convs.{i}.conv."},
	{theirs: "roi_heads.mask_predictor.conv5_mask.", ours: "roi_head.mask_head.upsample."},
	{theirs: "roi_heads.mask_predictor.mask_fcn_logits.", ours: "roi_head.mask_head.conv_logits."},
	{theirs: "head.classification_head.conv.{i}.0.", ours: "bbox_head.cls_convs.{i}.conv."},
	{theirs: "head.classification_head.cls_logits.", ours: "bbox_head.retina_cls."},
	{theirs: "head.regression_head.conv.{i}.0.", ours: "bbox_head.reg_convs.{i}.conv."},
	{theirs: "head.regression_head.bbox_reg.", ours: "bbox_head.retina_reg."},
})

// mmdetV1Names: v0/v1 two-stage detectors kept the box and mask heads at
// the top level; everything else already has v2's names.
var mmdetV1Names = newRenameTable([]renameRule{
	{theirs: "bbox_head.", ours: "roi_head.bbox_head."},
	{theirs: "mask_head.", ours: "roi_head.mask_head."},
	{theirs: "", ours: ""},
})

// detectron2Names covers GeneralizedRCNN and RetinaNet on ResNet-FPN.
var detectron2Names = newRenameTable(detectron2Rules())

func detectron2Rules() []renameRule {
	rules := []renameRule{
		{theirs: "backbone.bottom_up.stem.conv1.norm.", ours: "backbone.bn1."},
		{theirs: "backbone.bottom_up.stem.conv1.", ours: "backbone.conv1."},
	}
	for stage := 2; stage <= 5; stage++ {
		res, layer := fmt.Sprintf("backbone.bottom_up.res%d.{i}.", stage), fmt.Sprintf("backbone.layer%d.{i}.", stage-1)
		for k := 1; k <= 3; k++ {
			rules = append(rules,
				renameRule{theirs: fmt.Sprintf("%sconv%d.norm.", res, k), ours: fmt.Sprintf("%sbn%d.", layer, k)},
				renameRule{theirs: fmt.Sprintf("%sconv%d.", res, k), ours: fmt.Sprintf("%sconv%d.", layer, k)})
		}
		rules = append(rules,
			renameRule{theirs: res + "shortcut.norm.", ours: layer + "downsample.1."},
			renameRule{theirs: res + "shortcut.", ours: layer + "downsample.0."})
		rules = append(rules,
			renameRule{theirs: fmt.Sprintf("backbone.fpn_lateral%d.", stage), ours: fmt.Sprintf("neck.lateral_convs.%d.conv.", stage-2)},
			renameRule{theirs: fmt.Sprintf("backbone.fpn_output%d.", stage), ours: fmt.Sprintf("neck.fpn_convs.%d.conv.", stage-2)})
	}
	// RetinaNet's FPN starts at res3: see retinaLevels.
	rules = append(rules,
		renameRule{theirs: "backbone.top_block.p6.", ours: "neck.fpn_convs.3.conv."},
		renameRule{theirs: "backbone.top_block.p7.", ours: "neck.fpn_convs.4.conv."},
		renameRule{theirs: "proposal_generator.rpn_head.conv.", ours: "rpn_head.rpn_conv."},
		renameRule{theirs: "proposal_generator.rpn_head.objectness_logits.", ours: "rpn_head.rpn_cls."},
		renameRule{theirs: "proposal_generator.rpn_head.anchor_deltas.", ours: "rpn_head.rpn_reg."},
		renameRule{theirs: "roi_heads.box_head.fc1.", ours: "roi_head.bbox_head.shared_fcs.0."},
		renameRule{theirs: "roi_heads.box_head.fc2.", ours: "roi_head.bbox_head.shared_fcs.1."},
		renameRule{theirs: "roi_heads.box_predictor.cls_score.", ours: "roi_head.bbox_head.fc_cls."},
		renameRule{theirs: "roi_heads.box_predictor.bbox_pred.", ours: "roi_head.bbox_head.fc_reg."},
		renameRule{theirs: "head.cls_score.", ours: "bbox_head.retina_cls."},
		renameRule{theirs: "head.bbox_pred.", ours: "bbox_head.retina_reg."})
	rules = append(rules,
		renameRule{theirs: "roi_heads.mask_head.deconv.", ours: "roi_head.mask_head.upsample."},
		renameRule{theirs: "roi_heads.mask_head.predictor.", ours: "roi_head.mask_head.conv_logits."})
	for i := range 4 { // MaskRCNNConvUpsampleHead numbers its convs from 1
		rules = append(rules, renameRule{theirs: fmt.Sprintf("roi_heads.mask_head.mask_fcn%d.", i+1), ours: fmt.Sprintf("roi_head.mask_head.convs.%d.conv.", i)})
	}
	for i := range 4 { // cls_subnet / bbox_subnet: conv, ReLU, conv, ReLU, ...
		rules = append(rules,
			renameRule{theirs: fmt.Sprintf("head.cls_subnet.%d.", 2*i), ours: fmt.Sprintf("bbox_head.cls_convs.%d.conv.", i)},
			renameRule{theirs: fmt.Sprintf("head.bbox_subnet.%d.", 2*i), ours: fmt.Sprintf("bbox_head.reg_convs.%d.conv.", i)})
	}
	return rules
}

// DetectLayout names the layout of a state dict from its key prefixes.
func DetectLayout(sd map[string]nn.HostTensor) Layout {
	has := func(prefixes ...string) bool {
		for k := range sd {
			for _, p := range prefixes {
				if strings.HasPrefix(k, p) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has("backbone.bottom_up.", "proposal_generator.", "head.cls_subnet."):
		return LayoutDetectron2
	case has("backbone.body.", "rpn.head.", "roi_heads.box_", "head.classification_head."):
		return LayoutTorchvision
	case has("bbox_head.fc_cls.", "bbox_head.shared_fcs."):
		return LayoutMMDetV1
	case has("conv1.", "layer1.", "fc."):
		return LayoutClassifier
	}
	return LayoutDetflow
}

// classRows is how a layout lays out the class-dependent rows that detflow
// keeps in MMDetection v2's order (background last in fc_cls, no
// background deltas in fc_reg, no background in retina_cls).
type classRows struct {
	bgFirst   bool // fc_cls has background at row 0, fc_reg its 4 deltas first
	retinaBG  bool // retina_cls has a (never trained) background class 0 per anchor
	retinaFPN bool // detectron2 numbers RetinaNet's laterals from res2
}

var layoutRows = map[Layout]classRows{
	LayoutTorchvision: {bgFirst: true, retinaBG: true},
	LayoutMMDetV1:     {bgFirst: true},
	LayoutDetectron2:  {retinaFPN: true},
}

var layoutNames = map[Layout]*renameTable{
	LayoutTorchvision: torchvisionNames,
	LayoutMMDetV1:     mmdetV1Names,
	LayoutDetectron2:  detectron2Names,
}

// mapped is a state dict under detflow's names that remembers where each
// entry came from, for error messages.
type mapped struct {
	sd     map[string]nn.HostTensor
	source map[string]string // detflow name -> checkpoint name
}

// ToDetflow maps a state dict of layout l onto detflow's names. It returns
// the checkpoint names no rule matched; training state that is not the
// model's (optimizer.*, num_batches_tracked stays) is dropped.
func ToDetflow(sd map[string]nn.HostTensor, l Layout) (map[string]nn.HostTensor, []string, error) {
	m, unmapped, err := toDetflow(sd, l)
	return m.sd, unmapped, err
}

func toDetflow(sd map[string]nn.HostTensor, l Layout) (mapped, []string, error) {
	out := mapped{sd: make(map[string]nn.HostTensor, len(sd)), source: make(map[string]string, len(sd))}
	var unmapped []string
	names, rows := layoutNames[l], layoutRows[l]
	retinaShift := rows.retinaFPN && hasPrefix(sd, "head.cls_subnet.")
	for _, k := range slices.Sorted(maps.Keys(sd)) {
		if strings.HasPrefix(k, "optimizer.") {
			continue
		}
		ours := k
		if retinaShift {
			ours = retinaLevels(ours)
		}
		if names != nil {
			var ok bool
			if ours, ok = names.toOurs(ours); !ok {
				unmapped = append(unmapped, k)
				continue
			}
		}
		v, err := rows.toOurs(ours, sd[k])
		if err != nil {
			return mapped{}, nil, fmt.Errorf("map %q: %w", k, err)
		}
		out.sd[ours], out.source[ours] = v, k
	}
	return out, unmapped, nil
}

func hasPrefix(sd map[string]nn.HostTensor, p string) bool {
	for k := range sd {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

var detectron2Lateral = regexp.MustCompile(`^backbone\.fpn_(lateral|output)(\d)\.`)

// retinaLevels renames detectron2's RetinaNet FPN convs, named by the res
// stage they read (3..5), to the names of a neck that starts at res2, so
// that the shared rules put them at detflow's indices 0..2.
func retinaLevels(name string) string {
	m := detectron2Lateral.FindStringSubmatch(name)
	if m == nil {
		return name
	}
	return fmt.Sprintf("backbone.fpn_%s%d.%s", m[1], int(m[2][0]-'0')-1, name[len(m[0]):])
}

// toOurs converts the class-dependent rows of one detflow-named entry.
func (c classRows) toOurs(name string, v nn.HostTensor) (nn.HostTensor, error) {
	switch {
	case c.bgFirst && strings.HasPrefix(name, "roi_head.bbox_head.fc_cls."):
		return backgroundLast(v)
	case c.bgFirst && strings.HasPrefix(name, "roi_head.bbox_head.fc_reg."):
		return dropBackgroundDeltas(v)
	case c.bgFirst && strings.HasPrefix(name, "roi_head.mask_head.conv_logits."):
		return dropRows(v, 1)
	case c.retinaBG && strings.HasPrefix(name, "bbox_head.retina_cls."):
		return dropRetinaBackground(v)
	}
	return v, nil
}

// retinaAnchors is the anchors per location of every RetinaNet layout.
const retinaAnchors = 9

// dropRetinaBackground removes class 0 of each anchor's K+1 outputs.
func dropRetinaBackground(t nn.HostTensor) (nn.HostTensor, error) {
	rows, w, err := rowsOf(t)
	if err != nil {
		return nn.HostTensor{}, err
	}
	if rows%retinaAnchors != 0 || rows/retinaAnchors < 2 {
		return nn.HostTensor{}, fmt.Errorf("%d classification rows: want %d anchors x (classes + background)", rows, retinaAnchors)
	}
	k := rows / retinaAnchors
	shape := slices.Clone(t.Shape)
	shape[0] = rows - retinaAnchors
	data := make([]float32, 0, len(t.Data)-retinaAnchors*w)
	for a := range retinaAnchors {
		data = append(data, t.Data[(a*k+1)*w:(a+1)*k*w]...)
	}
	return nn.HostTensor{Shape: shape, Data: data}, nil
}

// FromDetflow maps a detflow state dict onto layout l's names and class
// rows, the inverse of ToDetflow: torchvision's background row 0 gets back
// its place (fc_cls), zero deltas (fc_reg) and, in RetinaNet, a class that
// never fires (weights 0, bias retinaNeverBias). Only torchvision and
// detflow's own layout are written.
func FromDetflow(sd map[string]nn.HostTensor, l Layout) (map[string]nn.HostTensor, error) {
	if l == LayoutDetflow {
		return maps.Clone(sd), nil
	}
	if l != LayoutTorchvision {
		return nil, fmt.Errorf("export to the %s layout: only %s and %s are written", l, LayoutTorchvision, LayoutDetflow)
	}
	out := make(map[string]nn.HostTensor, len(sd))
	for _, k := range slices.Sorted(maps.Keys(sd)) {
		if strings.HasSuffix(k, "num_batches_tracked") {
			continue // torchvision's FrozenBatchNorm2d has none
		}
		theirs, ok := torchvisionNames.toTheirs(k)
		if !ok {
			return nil, fmt.Errorf("export to the %s layout: %q has no torchvision counterpart", l, k)
		}
		v, err := toTorchvisionRows(k, sd[k])
		if err != nil {
			return nil, fmt.Errorf("export %q: %w", k, err)
		}
		out[theirs] = v
	}
	return out, nil
}

// retinaNeverBias is the logit of the background class written into a
// torchvision RetinaNet: sigmoid(-30) ~ 1e-13, far below any score_thresh.
const retinaNeverBias = -30

func toTorchvisionRows(k string, v nn.HostTensor) (nn.HostTensor, error) {
	_, w, err := rowsOf(v)
	if err != nil {
		return nn.HostTensor{}, err
	}
	grow := func(rows int, data []float32) nn.HostTensor {
		shape := slices.Clone(v.Shape)
		shape[0] += rows
		return nn.HostTensor{Shape: shape, Data: data}
	}
	switch {
	case strings.HasPrefix(k, "roi_head.bbox_head.fc_cls."):
		n := len(v.Data)
		return grow(0, slices.Concat(v.Data[n-w:], v.Data[:n-w])), nil
	case strings.HasPrefix(k, "roi_head.bbox_head.fc_reg."):
		return grow(4, slices.Concat(make([]float32, 4*w), v.Data)), nil
	case strings.HasPrefix(k, "roi_head.mask_head.conv_logits."):
		return grow(1, slices.Concat(make([]float32, w), v.Data)), nil // background's mask is never read
	case strings.HasPrefix(k, "bbox_head.retina_cls."):
		rows := v.Shape[0]
		if rows%retinaAnchors != 0 {
			return nn.HostTensor{}, fmt.Errorf("%d classification rows: want a multiple of %d anchors", rows, retinaAnchors)
		}
		bg := make([]float32, w)
		if strings.HasSuffix(k, "bias") {
			bg[0] = retinaNeverBias
		}
		k := rows / retinaAnchors
		var data []float32
		for a := range retinaAnchors {
			data = append(append(data, bg...), v.Data[a*k*w:(a+1)*k*w]...)
		}
		return grow(retinaAnchors, data), nil
	}
	return v, nil
}

// cocoUnusedIDs are the ids in 1..90 that COCO 2014/2017 never annotate;
// torchvision's COCO detectors keep a (never trained) class for each.
var cocoUnusedIDs = []int{12, 26, 29, 30, 45, 66, 68, 69, 71, 83}

// cocoRows maps a class-dependent entry of a torchvision COCO detector
// (labels for ids 1..90, background dropped or last) onto the 80 annotated
// categories: the rows of the unused ids go. ok is false when the entry is
// not laid out that way.
func cocoRows(k string, v nn.HostTensor) (nn.HostTensor, bool) {
	rows, w, err := rowsOf(v)
	if err != nil {
		return nn.HostTensor{}, false
	}
	var per, groups, extra int // rows per class, class groups, trailing rows kept
	switch {
	case strings.HasPrefix(k, "roi_head.bbox_head.fc_cls.") && rows == 91:
		per, groups, extra = 1, 1, 1 // background last
	case strings.HasPrefix(k, "roi_head.bbox_head.fc_reg.") && rows == 4*90:
		per, groups = 4, 1
	case strings.HasPrefix(k, "roi_head.mask_head.conv_logits.") && rows == 90:
		per, groups = 1, 1
	case strings.HasPrefix(k, "bbox_head.retina_cls.") && rows == retinaAnchors*90:
		per, groups = 1, retinaAnchors
	default:
		return nn.HostTensor{}, false
	}
	group := (rows - extra) / groups
	var data []float32
	for g := range groups {
		for id := 1; id <= 90; id++ {
			if !slices.Contains(cocoUnusedIDs, id) {
				o := g*group + (id-1)*per
				data = append(data, v.Data[o*w:(o+per)*w]...)
			}
		}
	}
	data = append(data, v.Data[(rows-extra)*w:]...)
	shape := slices.Clone(v.Shape)
	shape[0] = len(data) / w
	return nn.HostTensor{Shape: shape, Data: data}, true
}
