// Package reg implements the connection-cost regularisers of modsweep and the
// structure measures that a sweep reports. The regularisers are the L1
// penalty and brain-inspired modular training (BIMT, Liu, Gan and Tegmark
// 2023) adapted to a recurrent network. The measures count active neurons,
// connections and wiring length.
//
// # Geometry
//
// The network lives in three parallel planes over the unit square, a
// distance l0 apart: inputs, hidden units, outputs. The N = rows·cols hidden
// units fill a grid, unit k = r·cols + c at ((2c+1)/(2·cols), (2r+1)/(2·rows)).
// For the 85-input, 33-output encoding of Yang et al. (2019), the fixation
// input and the fixation output sit at the centre; the response ring lies on
// a circle of radius 1/4 around it, and the two stimulus rings on circles of
// radius 3/8 and 1/8, each unit at the angle of its preferred direction. The
// rule inputs line the border of the square [1/16, 15/16]². NewGeometry
// documents the layout for other sizes. Distances within a plane are
// Manhattan distances.
//
// # Cost
//
// A connection of weight w between units an in-plane distance d apart costs
// |w|·(A·d + l0). The penalty is
//
//	lambda · Σ over Win, Wrec, Wout of mean(|W| ⊙ (A·D + l0)),
//
// averaged within each matrix so that lambda means the same at every network
// size. With A = 0 it is a plain L1 penalty, lambda·l0·Σ mean|W|; that is
// the L1 regulariser. Cost.PenalizeIO false keeps only the l0 term on Win and
// Wout, which leaves the inputs and outputs without positions as far as the
// cost is concerned. An autapse has d = 0, so under BIMT it is the cheapest
// connection there is; Measures.DiagShare reports how much of |Wrec| sits on
// the diagonal, so that a network of isolated self-loops is not mistaken for
// spatial modularity.
//
// # Swaps
//
// BIMT also moves hidden units between grid positions when that lowers the
// cost. A swap of units j and k permutes Wrec symmetrically (P·W·Pᵀ), along
// with the hidden dimension of Win and Wout and the recurrent bias, so the
// network computes the same function before and after; only the A·d part of
// the cost changes. SwapRound picks the top-k positions by summed incoming
// and outgoing weight magnitude, and for each one greedily applies the swap
// with the largest cost reduction over all other positions. It evaluates each
// candidate as an incremental change in O(NIn + N + NOut), not by
// recomputing the cost.
//
// The public BIMT notebooks leave the optimiser state unpermuted, so after a
// swap Adam's moment estimates describe the weights that used to sit at each
// position. modsweep permutes the moments along with the weights, so that
// every weight keeps its own running mean and variance of the gradient. The
// task loss is unchanged by a swap, so only the penalty's changed distance
// term then alters the next update.
//
// # Measures
//
// Measure counts active neurons by weight (incoming and outgoing magnitude
// both above a threshold), the number and summed length of connections above
// a weight threshold, the |w|-weighted wiring length and the diagonal share.
// ActiveByActivity counts active neurons by task variance, as Yang et al.
// do. Every threshold comparison is strict.
package reg
