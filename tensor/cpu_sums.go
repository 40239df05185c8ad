package tensor

// The float64 sums below keep four independent accumulators: a single
// accumulator makes every add wait for the previous one (four cycles of
// latency each), and these loops run over every activation of a network.

// sum2 returns Σx and Σx².
func sum2(xs []float32) (s, q float64) {
	var acc [8]float64
	i := sum2Vec(xs, &acc)
	s0, s1, s2, s3, q0, q1, q2, q3 := acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
	for ; i+4 <= len(xs); i += 4 {
		a, b, c, d := float64(xs[i]), float64(xs[i+1]), float64(xs[i+2]), float64(xs[i+3])
		s0, s1, s2, s3 = s0+a, s1+b, s2+c, s3+d
		q0, q1, q2, q3 = q0+a*a, q1+b*b, q2+c*c, q3+d*d
	}
	for ; i < len(xs); i++ {
		a := float64(xs[i])
		s0 += a
		q0 += a * a
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}

// sum1 returns Σx.
func sum1(xs []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(xs); i += 4 {
		s0 += float64(xs[i])
		s1 += float64(xs[i+1])
		s2 += float64(xs[i+2])
		s3 += float64(xs[i+3])
	}
	for ; i < len(xs); i++ {
		s0 += float64(xs[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// dotSum returns Σg and Σg·x over equal lengths.
func dotSum(gs, xs []float32) (sg, sgx float64) {
	xs = xs[:len(gs)]
	var acc [8]float64
	i := dotSumVec(gs, xs, &acc)
	g0, g1, g2, g3, p0, p1, p2, p3 := acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
	for ; i+4 <= len(gs); i += 4 {
		a, b, c, d := float64(gs[i]), float64(gs[i+1]), float64(gs[i+2]), float64(gs[i+3])
		g0, g1, g2, g3 = g0+a, g1+b, g2+c, g3+d
		p0 += a * float64(xs[i])
		p1 += b * float64(xs[i+1])
		p2 += c * float64(xs[i+2])
		p3 += d * float64(xs[i+3])
	}
	for ; i < len(gs); i++ {
		g0 += float64(gs[i])
		p0 += float64(gs[i]) * float64(xs[i])
	}
	return (g0 + g1) + (g2 + g3), (p0 + p1) + (p2 + p3)
}
