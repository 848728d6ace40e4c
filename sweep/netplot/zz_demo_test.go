package netplot

import "testing"

func TestZZDemo(t *testing.T) {
	if err := Draw(twoClusters(), "/tmp/netplot/two.png", Options{Title: "trial 3f9a2c0d (bimt, λ = 1e-3, seed 1)"}); err != nil { t.Fatal(err) }
	if err := Draw(twoClusters(), "/tmp/netplot/two.svg", Options{Title: "trial 3f9a2c0d"}); err != nil { t.Fatal(err) }
	if err := Draw(sparseNetwork(16, 1), "/tmp/netplot/big.png", Options{Title: "N=256"}); err != nil { t.Fatal(err) }
	if err := Draw(sparseNetwork(8, 1), "/tmp/netplot/mid.png", Options{Title: "N=64"}); err != nil { t.Fatal(err) }
}
