package sweep

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestWritePlanGolden(t *testing.T) {
	f := mustParse(t, smallSweep)
	trials, _ := f.Expand()
	for _, format := range []string{FormatTable, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := WritePlan(&b, f, trials, format); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "plan."+format+".golden", b.Bytes())
		})
	}
}

func TestWritePlanJSON(t *testing.T) {
	f := mustParse(t, smallSweep)
	trials, _ := f.Expand()
	var b bytes.Buffer
	if err := WritePlan(&b, f, trials, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var plan planJSON
	if err := json.Unmarshal(b.Bytes(), &plan); err != nil {
		t.Fatalf("plan JSON does not decode: %v", err)
	}
	if plan.Trials != 16 || len(plan.List) != 16 {
		t.Errorf("plan has %d trials and %d list entries, want 16", plan.Trials, len(plan.List))
	}
	if got := plan.Breakdown["regularizer"]["l1"]; got != 8 {
		t.Errorf("breakdown of l1 = %d, want 8", got)
	}
	if got := plan.Breakdown["learning_rate"]["0.003"]; got != 8 {
		t.Errorf("breakdown of learning_rate 0.003 = %d, want 8", got)
	}
	if plan.List[0].Config.Hidden != 16 {
		t.Errorf("first trial config hidden = %d, want 16", plan.List[0].Config.Hidden)
	}
}

func TestWritePlanUnknownFormat(t *testing.T) {
	f := mustParse(t, smallSweep)
	err := WritePlan(&bytes.Buffer{}, f, nil, "yaml")
	if err == nil || !strings.Contains(err.Error(), `"yaml"`) {
		t.Errorf("WritePlan(yaml) error = %v, want one naming the format", err)
	}
}
