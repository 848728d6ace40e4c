//go:build amd64 && !openblas

package core

// softplusAVX2 sets r[i] = ln(1+e^{z[i]}) and df[i] = sigmoid(z[i]) for
// i < n, 8 lanes at a time with float32 arithmetic; n must be a multiple
// of 8.
//
//go:noescape
func softplusAVX2(z, r, df *float32, n int)

// sigmoidAVX2 sets y[i] = sigmoid(y[i]) for i < n; n must be a multiple of 8.
//
//go:noescape
func sigmoidAVX2(y *float32, n int)
