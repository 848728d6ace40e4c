package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/modsweep/modsweep/core"
)

// SchemaVersion is hashed into every trial id. Raise it when the meaning
// of a core.Config field changes, so old results are not reused.
const SchemaVersion = 1

// Trial is one training run of a sweep.
type Trial struct {
	ID          string // TrialID(Config)
	Index       int    // position in the expansion order
	Config      core.Config
	Regularizer string
	Lambda      float64
	Seed        uint64
	// Axes maps each grid axis name to the label of this trial's value,
	// such as "hidden": "144".
	Axes map[string]string
}

// TrialID returns the content hash of a trial configuration: the first 16
// hex digits of the SHA-256 of SchemaVersion and the JSON encoding of the
// normalised configuration. Normalisation clears the fields that cannot
// change training (see normalise), so equal trainings share one id. The id
// is defined for valid configurations; NaN and infinite values, which
// Validate rejects, are hashed through their Go syntax instead of JSON.
func TrialID(cfg core.Config) string {
	norm := normalise(cfg)
	body, err := json.Marshal(norm)
	if err != nil {
		body = fmt.Appendf(nil, "%#v", norm)
	}
	h := sha256.New()
	fmt.Fprintf(h, "modsweep trial schema %d\n", SchemaVersion)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// normalise returns a copy of cfg in which the fields that cannot affect
// training have fixed values. Outside BIMT, the distance weight and the
// swap settings are cleared, because core.Config.EffectiveA and Swaps
// ignore them there. Swap settings that disable swaps, a lambda schedule
// with lambda 0, and task weights equal to the defaults are cleared too.
func normalise(cfg core.Config) core.Config {
	out := cloneConfig(cfg)
	out.Lambda += 0 // turns -0 into 0
	if out.Regularizer != core.RegBIMT {
		out.DistanceA = 0
		out.SwapEvery, out.SwapTopK = 0, 0
	}
	if out.SwapEvery == 0 || out.SwapTopK == 0 {
		out.SwapEvery, out.SwapTopK = 0, 0
	}
	if out.Lambda == 0 || len(out.LambdaSchedule) == 0 {
		out.LambdaSchedule = nil
	}
	if len(out.TaskWeights) > 0 {
		defaults := out
		defaults.TaskWeights = nil
		if slices.Equal(out.TaskWeights, defaults.Weights()) {
			out.TaskWeights = nil
		}
	}
	return out
}

func cloneConfig(cfg core.Config) core.Config {
	cfg.Tasks = slices.Clone(cfg.Tasks)
	cfg.TaskWeights = slices.Clone(cfg.TaskWeights)
	cfg.LambdaSchedule = slices.Clone(cfg.LambdaSchedule)
	return cfg
}

// Expand returns the trials of the file in a deterministic order.
// Regularizers come in the order none, l1, bimt, and lambdas ascending.
// Grid axes are sorted by name, each keeps the order of its list, and the
// last axis varies fastest. Seeds are innermost, in the order listed.
// Trials with equal ids are merged and the first one is kept, so the
// result has no duplicates.
func (f *File) Expand() ([]Trial, error) {
	out := make([]Trial, len(f.trials))
	for i, t := range f.trials {
		t.Config = cloneConfig(t.Config)
		axes := make(map[string]string, len(t.Axes))
		for k, v := range t.Axes {
			axes[k] = v
		}
		t.Axes = axes
		out[i] = t
	}
	return out, nil
}

// Merged returns how many expanded trials were dropped as duplicates of an
// earlier trial with the same id, such as two grid values that differ only
// in a field that the regularizer ignores.
func (f *File) Merged() int { return f.merged }

// AxisNames returns the grid axis names in expansion order.
func (f *File) AxisNames() []string {
	names := make([]string, len(f.axes))
	for i, a := range f.axes {
		names[i] = a.name
	}
	return names
}

// Seeds returns the seed axis.
func (f *File) Seeds() []uint64 { return slices.Clone(f.seeds) }

// maxCount caps countTrials so that the count cannot overflow.
const maxCount = 1 << 50

// countTrials returns the number of trials before deduplication, or
// maxCount if there are more.
func (f *File) countTrials() int {
	total := 0
	for _, reg := range f.regs {
		n := len(reg.lambdas)
		for _, size := range append([]int{len(f.seeds)}, f.axisSizes()...) {
			n = saturatingProduct(n, size)
		}
		total = min(total+n, maxCount)
	}
	return total
}

// saturatingProduct returns a·b for a, b >= 0, or maxCount if that is
// larger.
func saturatingProduct(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > maxCount/b {
		return maxCount
	}
	return min(a*b, maxCount)
}

func (f *File) axisSizes() []int {
	sizes := make([]int, len(f.axes))
	for i, a := range f.axes {
		sizes[i] = len(a.values)
	}
	return sizes
}

// validationIssue is one distinct Validate message, mapped to the line
// that set the offending field.
type validationIssue struct {
	line   int
	origin string
	msg    string
	trials int
	first  string
}

func (p *parser) expand(f *File) {
	p.checkAxisOverlap(f)
	if len(p.errs) > 0 {
		return
	}
	if n := f.countTrials(); n > f.MaxTrials {
		p.errorf(0, "limits.max_trials", "the grid expands to %d trials, more than the limit of %d: remove values from an axis, or raise limits.max_trials (at most %d)",
			n, f.MaxTrials, HardMaxTrials)
		return
	}

	var issues []*validationIssue
	byKey := map[string]*validationIssue{}
	seen := map[string]bool{}
	combos := gridCombos(f.axes)
	for _, reg := range f.regs {
		for _, lambda := range reg.lambdas {
			for _, combo := range combos {
				for _, seed := range f.seeds {
					t, setters := buildTrial(f, reg, lambda, combo, seed)
					if err := t.Config.Validate(); err != nil {
						for _, issue := range mapValidation(err, setters) {
							key := fmt.Sprint(issue.line, issue.origin, issue.msg)
							if old, ok := byKey[key]; ok {
								old.trials++
								continue
							}
							issue.first = describeTrial(t)
							byKey[key] = issue
							issues = append(issues, issue)
						}
						continue
					}
					if seen[t.ID] {
						f.merged++
						continue
					}
					seen[t.ID] = true
					t.Index = len(f.trials)
					f.trials = append(f.trials, t)
				}
			}
		}
	}

	for _, issue := range issues {
		p.errorf(issue.line, issue.origin, "%s (%s)", issue.msg, trialCount(issue))
	}
}

func trialCount(issue *validationIssue) string {
	if issue.trials == 1 {
		return "trial " + issue.first
	}
	return fmt.Sprintf("%d trials, first %s", issue.trials, issue.first)
}

// checkAxisOverlap rejects two grid axes that set the same field, because
// the later axis would silently override the earlier one.
func (p *parser) checkAxisOverlap(f *File) {
	owner := map[string]string{}
	for _, axis := range f.axes {
		fields := map[string]int{}
		for _, v := range axis.values {
			for _, o := range v.overrides {
				fields[o.field.name] = o.line
			}
		}
		for _, name := range sortedKeys(fields) {
			if other, ok := owner[name]; ok && other != axis.name {
				p.errorf(fields[name], "grid."+axis.name, "sets %s, which grid.%s also sets: let one axis set each field", name, other)
				continue
			}
			owner[name] = axis.name
		}
	}
}

// gridCombos returns every combination of grid values, last axis fastest.
func gridCombos(axes []gridAxis) [][]gridValue {
	combos := [][]gridValue{nil}
	for _, axis := range axes {
		next := make([][]gridValue, 0, len(combos)*len(axis.values))
		for _, c := range combos {
			for _, v := range axis.values {
				next = append(next, append(slices.Clip(c), v))
			}
		}
		combos = next
	}
	return combos
}

// buildTrial applies the layers base, regularizer block and grid values to
// core.Default, in that order, and returns the trial and, for each field
// set by the file, the override that set it last.
//
// A layer that sets hidden without grid_rows or grid_cols gets a square
// grid when hidden is a perfect square (hidden 144 means 12 × 12), unless
// a later layer sets the grid. Otherwise the grid stays as it was and
// Validate reports a hidden size that does not fit.
func buildTrial(f *File, reg regularizerAxis, lambda float64, combo []gridValue, seed uint64) (Trial, map[string]override) {
	cfg := core.Default()
	setters := map[string]override{}
	derive := false
	apply := func(layer []override) {
		setsHidden, setsGrid := false, false
		for _, o := range layer {
			o.apply(&cfg)
			setters[o.field.name] = o
			switch o.field.name {
			case "hidden":
				setsHidden = true
			case "grid_rows", "grid_cols":
				setsGrid = true
			}
		}
		if setsHidden {
			derive = !setsGrid
		} else if setsGrid {
			derive = false
		}
	}

	apply(f.base)
	apply(reg.overrides)
	axes := make(map[string]string, len(combo))
	for i, v := range combo {
		apply(v.overrides)
		axes[f.axes[i].name] = v.label
	}
	if derive && cfg.Hidden > 0 {
		if side := int(math.Sqrt(float64(cfg.Hidden))); side*side == cfg.Hidden {
			cfg.GridRows, cfg.GridCols = side, side
		}
	}
	cfg.Regularizer = reg.name
	cfg.Lambda = lambda
	cfg.Seed = seed

	t := Trial{ID: TrialID(cfg), Config: cfg, Regularizer: reg.name, Lambda: lambda, Seed: seed, Axes: axes}
	return t, setters
}

// mapValidation splits a Validate error into its messages and finds, for
// each, the line of the file that set the field it names.
func mapValidation(err error, setters map[string]override) []*validationIssue {
	text := strings.TrimPrefix(err.Error(), core.ErrInvalidConfig.Error()+": ")
	var out []*validationIssue
	for _, msg := range strings.Split(text, "; ") {
		field := leadingField(msg)
		o, ok := setters[field]
		if !ok && (field == "grid_rows" || field == "grid_cols") {
			o, ok = setters["hidden"]
		}
		if !ok {
			// Some messages name two fields, as in "tau_ms = 100, dt_ms = 10".
			for _, name := range sortedKeys(setters) {
				if strings.Contains(msg, name+" = ") {
					o, ok = setters[name]
					break
				}
			}
		}
		issue := &validationIssue{msg: msg, trials: 1, origin: "default of " + field}
		if ok {
			issue.line, issue.origin = o.line, o.origin
			issue.msg = strings.TrimPrefix(msg, field+": ")
		}
		if field == "hidden" && strings.Contains(msg, "does not fit") {
			issue.msg += "; only a perfect square such as 144 gets a square grid without them"
		}
		out = append(out, issue)
	}
	return out
}

// leadingField returns the field name that starts a Validate message,
// such as "hidden" in "hidden = 96 does not fit ...".
func leadingField(msg string) string {
	end := strings.IndexFunc(msg, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') })
	if end < 0 {
		return msg
	}
	return msg[:end]
}

func describeTrial(t Trial) string {
	parts := []string{"regularizer=" + t.Regularizer}
	if t.Regularizer != core.RegNone {
		parts = append(parts, "lambda="+formatFloat(t.Lambda))
	}
	parts = append(parts, "seed="+strconv.FormatUint(t.Seed, 10))
	for _, name := range sortedKeys(t.Axes) {
		parts = append(parts, name+"="+t.Axes[name])
	}
	return strings.Join(parts, " ")
}

// labelOverrides labels a grid value: the value of the axis field, then
// any other fields the entry sets as name=value, sorted by name.
func labelOverrides(axis string, overrides []override) string {
	var main string
	var rest []string
	for _, o := range overrides {
		if o.field.name == axis {
			main = formatValue(o.value)
			continue
		}
		rest = append(rest, o.field.name+"="+formatValue(o.value))
	}
	if len(rest) == 0 {
		return main
	}
	return main + " (" + strings.Join(rest, ", ") + ")"
}

func formatValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Float64:
		return formatFloat(v.Float())
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.String:
		return v.String()
	default:
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return fmt.Sprint(v.Interface())
		}
		return string(b)
	}
}

func formatFloat(x float64) string {
	return strconv.FormatFloat(x, 'g', -1, 64)
}
