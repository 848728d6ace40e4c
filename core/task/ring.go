package task

import "math"

// preferred holds the preferred angles 2πk/RingSize of the ring units.
var preferred = func() (p [RingSize]float64) {
	for k := range p {
		p[k] = 2 * math.Pi * float64(k) / RingSize
	}
	return p
}()

// bump returns the activity 0.8·exp(−(d/(π/8))²/2) of each ring unit for a
// stimulus of strength 1 at angle loc, where d is the circular distance to
// the unit's preferred angle.
func bump(loc float64) (shape [RingSize]float64) {
	for k, theta := range preferred {
		d := CircularDistance(loc, theta) / bumpWidth
		shape[k] = bumpHeight * math.Exp(-d*d/2)
	}
	return shape
}

// CircularDistance returns the distance between angles a and b on the
// circle, in [0, π].
func CircularDistance(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 2*math.Pi)
	return math.Min(d, 2*math.Pi-d)
}

// wrapAngle returns a reduced into [0, 2π).
func wrapAngle(a float64) float64 {
	a = math.Mod(a, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	if a >= 2*math.Pi { // a tiny negative a rounds up to 2π
		a = 0
	}
	return a
}
