package gpu

// ConvGeom is the geometry of one image's im2col/col2im: a [C,H,W] image,
// a KH×KW kernel with padding, stride and dilation (all >= 1 except pads).
type ConvGeom struct {
	C, H, W          int
	KH, KW           int
	PadH, PadW       int
	StrideH, StrideW int
	DilH, DilW       int
}

// OH is the output height: (H + 2*PadH - DilH*(KH-1) - 1)/StrideH + 1.
func (g ConvGeom) OH() int { return (g.H+2*g.PadH-g.DilH*(g.KH-1)-1)/g.StrideH + 1 }

// OW is the output width.
func (g ConvGeom) OW() int { return (g.W+2*g.PadW-g.DilW*(g.KW-1)-1)/g.StrideW + 1 }

// ColSize is the number of floats in the column matrix [C*KH*KW, OH*OW].
func (g ConvGeom) ColSize() int { return g.C * g.KH * g.KW * g.OH() * g.OW() }

// PoolGeom is the geometry of max and average pooling over NC planes of
// H×W (floor mode, no dilation).
type PoolGeom struct {
	NC, H, W         int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
}

// OH is the output height: (H + 2*PadH - KH)/StrideH + 1.
func (g PoolGeom) OH() int { return (g.H+2*g.PadH-g.KH)/g.StrideH + 1 }

// OW is the output width.
func (g PoolGeom) OW() int { return (g.W+2*g.PadW-g.KW)/g.StrideW + 1 }

// args are the geometry parameters of the max and average pooling kernels.
func (g PoolGeom) args() []any {
	return []any{i32(g.NC), i32(g.H), i32(g.W), i32(g.KH), i32(g.KW), i32(g.StrideH), i32(g.StrideW),
		i32(g.PadH), i32(g.PadW), i32(g.OH()), i32(g.OW())}
}

// RoIAlignGeom describes a RoIAlign call: K boxes (rows of 5 floats: batch
// index, x1, y1, x2, y2) pooled from a [N,C,H,W] map into [K,C,PH,PW].
type RoIAlignGeom struct {
	K, C, H, W    int
	PH, PW        int
	SpatialScale  float32 // 1/stride of the feature map
	SamplingRatio int     // samples per bin side; 0 = adaptive ceil(size/pooled)
	Aligned       bool    // shift by -0.5 pixel (Detectron2, torchvision aligned=True)
}

// OutSize is K*C*PH*PW.
func (g RoIAlignGeom) OutSize() int { return g.K * g.C * g.PH * g.PW }
