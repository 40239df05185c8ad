//go:build noasm || !amd64

package tensor

// Without the vector loops of simd_amd64.s every pass is the scalar Go loop.

const useAVX512 = false

func reluVec(ys, xs []float32) int                       { return 0 }
func reluGradVec(dxs, dys, ys []float32) int             { return 0 }
func affineVec(ys, xs []float32, a, b float32) int       { return 0 }
func addVec(dst, src []float32) int                      { return 0 }
func bnGradVec(dst, xs, gs []float32, p *[5]float32) int { return 0 }
func dotSumVec(gs, xs []float32, acc *[8]float64) int    { return 0 }
func sum2Vec(xs []float32, acc *[8]float64) int          { return 0 }

func addRowsVec(dst, src []float32, w, rows, dstStride, srcStride int) bool      { return false }
func addEvensRowsVec(dst, src []float32, w, rows, dstStride, srcStride int) bool { return false }
func copyRowsVec(dst, src []float32, w, rows, dstStride, srcStride int) bool     { return false }
func evensRowsVec(dst, src []float32, w, rows, dstStride, srcStride int) bool    { return false }
