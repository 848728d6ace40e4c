// Package core trains one leaky RNN on the cognitive tasks of Yang et al.
// (2019) under a connection-cost regulariser and measures the result: Train
// is the whole trial.
//
// The network is Yang et al.'s LeakyRNNCell (gyyang/multitask, network.py):
//
//	z_t = x_t·Win + r_{t-1}·Wrec + Brec + sqrt(2/α)·σ_rec·ξ_t
//	r_t = (1-α)·r_{t-1} + α·f(z_t),  r_{-1} = 0
//	y_t = sigmoid(r_t·Wout + Bout)
//
// with input noise sqrt(2/α)·σ_x on all 85 input channels and the loss
// mean(((y - target)·mask)²) over every time step, trial and output.
// Gradients come from backpropagation through time and are checked against
// finite differences and against PyTorch autograd (testdata).
//
// Optimiser: Adam in TensorFlow's form (lr 1e-3, β1 0.9, β2 0.999, ε 1e-8,
// bias correction folded into the step size, as tf.train.AdamOptimizer),
// applied to the element-wise clipped gradient of task loss plus penalty.
//
// Precision: master weights and Adam state are float64. Forward pass and
// BPTT run in Config.Precision: float64, or float32 (the default), which
// agrees with float64 to about 1e-6 of the largest gradient entry.
//
// Matrix products: the default build multiplies float32 matrices with an
// AVX2/FMA kernel in Go assembly (gonum's pure-Go BLAS on other CPUs) and
// float64 matrices with gonum. Building with -tags openblas (cgo, Debian's
// libopenblas-dev) uses OpenBLAS for both, on one thread.
//
// Randomness: every draw comes from math/rand/v2 PCG streams derived from
// the trial seed. The initial weights, the task order and the noise of each
// step have a stream each, so a trial is bit-reproducible on the same
// machine, Go release and build. Evaluation batches and their noise come
// from a fixed seed that does not depend on the trial, so every trial is
// scored on the same trials.
package core
