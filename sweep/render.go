package sweep

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// writeTable renders the report for people: the status header, the
// fronts, the seed-aggregated table and the hypervolume comparison.
func (r *Report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	r.tableHeader(tw)
	r.tableFronts(tw)
	r.tableGroups(tw)
	r.tableHypervolume(tw)
	return tw.Flush()
}

func (r *Report) tableHeader(w io.Writer) {
	fmt.Fprintf(w, "sweep %s, report at %s\n", r.Sweep, r.GeneratedAt.Format(time.RFC3339))
	var parts []string
	for _, s := range r.states() {
		parts = append(parts, fmt.Sprintf("%s %d", s, r.Counts[s]))
	}
	fmt.Fprintf(w, "trials: %d (%s)\n", len(r.Records), strings.Join(parts, ", "))
	if r.Counts[StateLeased] > 0 {
		fmt.Fprintf(w, "oldest lease: %s\n", r.OldestLease.Round(time.Second))
	}
	if len(r.Thresholds) == 0 {
		fmt.Fprintln(w, "thresholds: not recorded")
	}
	for _, t := range r.Thresholds {
		fmt.Fprintf(w, "thresholds: theta_n %g, theta_w %g, theta_activity %g (%s)\n", t.ThetaN, t.ThetaW, t.ThetaActivity, trials(t.Trials))
	}
}

// states returns States followed by any other state the records carry.
func (r *Report) states() []string {
	out := append([]string(nil), States...)
	for _, s := range sortedKeys(r.Counts) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (r *Report) tableFronts(w io.Writer) {
	fmt.Fprintln(w, "\nPareto front: max performance, min active neurons, min wiring length")
	fmt.Fprintln(w, "(a point dominates another if no worse in all three and better in one; equal points share a front)")
	byID := r.recordsByID()
	axes := r.axisNames()

	fmt.Fprintf(w, "\noverall front (%s)\n", trials(len(r.Front)))
	r.tableTrials(w, r.Front, byID, axes)
	for _, reg := range r.Regularizers {
		fmt.Fprintf(w, "\nfront of %s (%s)\n", reg, trials(len(r.RegularizerFronts[reg])))
		r.tableTrials(w, r.RegularizerFronts[reg], byID, axes)
	}

	fmt.Fprintf(w, "\n2-D front, performance vs active neurons: %s\n", listOrNone(r.FrontPerfActive))
	fmt.Fprintf(w, "2-D front, performance vs wiring length: %s\n", listOrNone(r.FrontPerfWiring))
	if len(r.Excluded) > 0 {
		fmt.Fprintf(w, "\nleft out of the fronts (%s)\n", trials(len(r.Excluded)))
		fmt.Fprintln(w, "ID\tREASON")
		for _, e := range r.Excluded {
			fmt.Fprintf(w, "%s\t%s\n", e.ID, e.Reason)
		}
	}
}

// trials renders a count of trials with the right noun form.
func trials(n int) string {
	if n == 1 {
		return "1 trial"
	}
	return strconv.Itoa(n) + " trials"
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, " ")
}

func (r *Report) recordsByID() map[string]Record {
	out := make(map[string]Record, len(r.Records))
	for _, rec := range r.Records {
		if _, ok := out[rec.ID]; !ok {
			out[rec.ID] = rec
		}
	}
	return out
}

func (r *Report) tableTrials(w io.Writer, ids []string, byID map[string]Record, axes []string) {
	header := append([]string{"ID", "REGULARIZER", "LAMBDA", "SEED"}, upper(axes)...)
	header = append(header, "PERF", "PERF_MIN", "ACTIVE", "WIRING", "WIRING_W")
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, id := range ids {
		rec := byID[id]
		m := rec.Metrics
		row := []string{rec.ID, rec.Regularizer, lambdaCell(rec.Regularizer, rec.Lambda), strconv.FormatUint(rec.Seed, 10)}
		for _, a := range axes {
			row = append(row, rec.Axes[a])
		}
		row = append(row, formatNumber(m.Performance, 3), formatNumber(m.PerformanceMin, 3),
			formatNumber(m.ActiveNeurons, 0), formatNumber(m.WiringLength, 2), formatNumber(m.WiringLengthWeighted, 2))
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
}

func (r *Report) tableGroups(w io.Writer) {
	fmt.Fprintf(w, "\nseed-aggregated: median [min, max] over seeds, %d groups; RANK is the front rank of the medians\n", len(r.Groups))
	if len(r.Groups) == 0 {
		return
	}
	fmt.Fprintln(w, "GROUP\tSEEDS\tPERF\tACTIVE\tWIRING\tWIRING_W\tDIAG\tLOSS\tRANK")
	for _, g := range r.Groups {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", g.Key, len(g.Trials),
			formatSpread(g.Performance, 3), formatSpread(g.ActiveNeurons, 1), formatSpread(g.WiringLength, 2),
			formatSpread(g.WiringLengthWeighted, 2), formatSpread(g.DiagShare, 3), formatSpread(g.FinalLoss, 4), g.Rank)
	}
}

func formatSpread(s Spread, prec int) string {
	if math.IsNaN(s.Median) {
		return "-"
	}
	if s.Min == s.Max {
		return formatNumber(s.Median, prec)
	}
	return fmt.Sprintf("%s [%s, %s]", formatNumber(s.Median, prec), formatNumber(s.Min, prec), formatNumber(s.Max, prec))
}

func (r *Report) tableHypervolume(w io.Writer) {
	ref := r.Reference
	fmt.Fprintf(w, "\nhypervolume: reference performance %.6g, active neurons %.6g, wiring length %.6g (%.1f × the worst observed)\n",
		ref.Performance, ref.ActiveNeurons, ref.WiringLength, HypervolumeMargin)
	fmt.Fprintln(w, "(objectives scaled so the reference is (1, 1, 1) and a perfect network (0, 0, 0): volumes lie in [0, 1])")
	fmt.Fprintln(w, "REGULARIZER\tTRIALS\tFRONT\tVOLUME\tGROUPS\tMEDIAN_VOLUME")
	for _, h := range r.Hypervolume {
		fmt.Fprintf(w, "%s\t%d\t%d\t%.4f\t%d\t%.4f\n", h.Regularizer, h.Trials, h.FrontSize, h.Volume, h.Groups, h.MedianVolume)
	}
}

// csvColumns are the metric columns of the CSV report.
var csvColumns = []string{
	"performance", "performance_min", "active_neurons", "active_neurons_activity",
	"wiring_length", "wiring_length_weighted", "diag_share", "final_loss",
}

func (r *Report) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	axes := r.axisNames()
	header := append([]string{"id", "state", "regularizer", "lambda", "seed", "attempts"}, axes...)
	header = append(header, csvColumns...)
	header = append(header, "rank", "rank_in_regularizer", "error")
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, rec := range r.Records {
		row := []string{rec.ID, rec.State, rec.Regularizer, formatFloat(rec.Lambda), strconv.FormatUint(rec.Seed, 10), strconv.Itoa(rec.Attempts)}
		for _, a := range axes {
			row = append(row, rec.Axes[a])
		}
		row = append(row, metricCells(rec.Metrics)...)
		row = append(row, rankCell(r.Rank, rec.ID), rankCell(r.RankInRegularizer, rec.ID), rec.Error)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// metricCells returns the CSV cells of csvColumns: empty for a missing
// value, so spreadsheets read it as blank.
func metricCells(m *Metrics) []string {
	if m == nil {
		return make([]string, len(csvColumns))
	}
	values := []float64{m.Performance, m.PerformanceMin, m.ActiveNeurons, m.ActiveNeuronsActivity,
		m.WiringLength, m.WiringLengthWeighted, m.DiagShare, m.FinalLoss}
	cells := make([]string, len(values))
	for i, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			cells[i] = formatFloat(v)
		}
	}
	return cells
}

func rankCell(ranks map[string]int, id string) string {
	if rank, ok := ranks[id]; ok {
		return strconv.Itoa(rank)
	}
	return ""
}
