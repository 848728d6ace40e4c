package sweep

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/modsweep/modsweep/core"
)

// Output formats accepted by WritePlan and Report.Write.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// planJSON is the JSON form of a plan.
type planJSON struct {
	Name      string                    `json:"name"`
	Source    string                    `json:"source"`
	Trials    int                       `json:"trials"`
	Merged    int                       `json:"merged_duplicates"`
	MaxTrials int                       `json:"max_trials"`
	Breakdown map[string]map[string]int `json:"breakdown"`
	List      []planTrialJSON           `json:"trial_list"`
}

type planTrialJSON struct {
	ID          string            `json:"id"`
	Index       int               `json:"index"`
	Regularizer string            `json:"regularizer"`
	Lambda      float64           `json:"lambda"`
	Seed        uint64            `json:"seed"`
	Axes        map[string]string `json:"axes,omitempty"`
	Config      core.Config       `json:"config"`
}

// WritePlan writes the trials that f expands to, as format "table" (the
// count, a breakdown by axis and one row per trial) or "json" (the same
// with every trial's full configuration).
func WritePlan(w io.Writer, f *File, trials []Trial, format string) error {
	switch format {
	case FormatTable, "":
		return writePlanTable(w, f, trials)
	case FormatJSON:
		return writePlanJSON(w, f, trials)
	default:
		return fmt.Errorf("plan format %q is not supported: use table or json", format)
	}
}

// breakdown counts the trials per value of every axis: regularizer, lambda
// (as regularizer/lambda), seed and each grid axis.
func breakdown(trials []Trial) map[string]map[string]int {
	out := map[string]map[string]int{"regularizer": {}, "lambda": {}, "seed": {}}
	for _, t := range trials {
		out["regularizer"][t.Regularizer]++
		out["lambda"][lambdaLabel(t.Regularizer, t.Lambda)]++
		out["seed"][strconv.FormatUint(t.Seed, 10)]++
		for name, value := range t.Axes {
			if out[name] == nil {
				out[name] = map[string]int{}
			}
			out[name][value]++
		}
	}
	return out
}

// axisCounts is the breakdown of one axis, values in order of first
// appearance in the expansion, which is the order of the file.
type axisCounts struct {
	name   string
	values []valueCount
}

type valueCount struct {
	label string
	count int
}

func orderedBreakdown(trials []Trial, gridAxes []string) []axisCounts {
	names := append([]string{"regularizer", "lambda", "seed"}, gridAxes...)
	out := make([]axisCounts, len(names))
	index := make([]map[string]int, len(names))
	for i, name := range names {
		out[i].name = name
		index[i] = map[string]int{}
	}
	for _, t := range trials {
		labels := []string{t.Regularizer, lambdaLabel(t.Regularizer, t.Lambda), strconv.FormatUint(t.Seed, 10)}
		for _, axis := range gridAxes {
			labels = append(labels, t.Axes[axis])
		}
		for i, label := range labels {
			j, ok := index[i][label]
			if !ok {
				j = len(out[i].values)
				index[i][label] = j
				out[i].values = append(out[i].values, valueCount{label: label})
			}
			out[i].values[j].count++
		}
	}
	return out
}

// lambdaLabel names a regularizer's penalty strength, such as "l1/0.001"
// or "none".
func lambdaLabel(regularizer string, lambda float64) string {
	if regularizer == core.RegNone {
		return regularizer
	}
	return regularizer + "/" + formatFloat(lambda)
}

func writePlanTable(w io.Writer, f *File, trials []Trial) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sweep %s (%s): %d trials", f.Name, f.Source, len(trials))
	if f.Merged() > 0 {
		fmt.Fprintf(&b, ", %d duplicates merged", f.Merged())
	}
	fmt.Fprintf(&b, ", limit %d\n", f.MaxTrials)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, axis := range orderedBreakdown(trials, f.AxisNames()) {
		var parts []string
		for _, v := range axis.values {
			parts = append(parts, fmt.Sprintf("%s: %d", v.label, v.count))
		}
		fmt.Fprintf(tw, "  %s\t%s\n", axis.name, strings.Join(parts, ", "))
	}
	tw.Flush()
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := append([]string{"#", "ID", "REGULARIZER", "LAMBDA", "SEED"}, upper(f.AxisNames())...)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, t := range trials {
		row := []string{strconv.Itoa(t.Index), t.ID, t.Regularizer, lambdaCell(t.Regularizer, t.Lambda), strconv.FormatUint(t.Seed, 10)}
		for _, axis := range f.AxisNames() {
			row = append(row, t.Axes[axis])
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

func lambdaCell(regularizer string, lambda float64) string {
	if regularizer == core.RegNone {
		return "-"
	}
	return formatFloat(lambda)
}

func upper(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToUpper(n)
	}
	return out
}

func writePlanJSON(w io.Writer, f *File, trials []Trial) error {
	plan := planJSON{
		Name:      f.Name,
		Source:    f.Source,
		Trials:    len(trials),
		Merged:    f.Merged(),
		MaxTrials: f.MaxTrials,
		Breakdown: breakdown(trials),
		List:      make([]planTrialJSON, len(trials)),
	}
	for i, t := range trials {
		plan.List[i] = planTrialJSON{ID: t.ID, Index: t.Index, Regularizer: t.Regularizer, Lambda: t.Lambda, Seed: t.Seed, Axes: t.Axes, Config: t.Config}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(plan); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}
