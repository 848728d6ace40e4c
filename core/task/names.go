package task

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Names lists the 20 tasks in the order of their rule units: the rule input
// of task Names[i] is input channel RuleStart+i.
var Names = []string{
	"fdgo", "reactgo", "delaygo", "fdanti", "reactanti", "delayanti",
	"dm1", "dm2", "contextdm1", "contextdm2", "multidm",
	"delaydm1", "delaydm2", "contextdelaydm1", "contextdelaydm2", "multidelaydm",
	"dmsgo", "dmsnogo", "dmcgo", "dmcnogo",
}

// Sizes of the encoding. The inputs are a fixation unit, two rings of 32
// units and 20 rule units. The outputs are a fixation unit and one ring of
// 32 units.
const (
	RingSize  = 32
	NumRules  = 20
	NumInputs = 1 + 2*RingSize + NumRules // 85
	NumOutput = 1 + RingSize              // 33
	RuleStart = 1 + 2*RingSize            // 65
)

// DtMS is the step length in milliseconds at which every task timing is
// defined.
const DtMS = 20

// ErrUnknownTask is wrapped by the errors that report a task name not in
// Names.
var ErrUnknownTask = errors.New("unknown task")

// Index returns the rule index of the named task: its position in Names
// and the offset of its rule unit from RuleStart.
func Index(name string) (int, error) {
	i := slices.Index(Names, name)
	if i < 0 {
		return 0, fmt.Errorf("%w %q: use one of %s", ErrUnknownTask, name, strings.Join(Names, ", "))
	}
	return i, nil
}
