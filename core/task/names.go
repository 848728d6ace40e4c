// Package task generates the 20 cognitive tasks of Yang et al. (2019),
// "Task representations in neural networks trained to perform many cognitive
// tasks", with the input and target encoding of their gyyang/multitask code.
package task

// Names lists the 20 tasks in the order of their rule units: the rule input
// of task Names[i] is input channel RuleStart+i.
var Names = []string{
	"fdgo", "reactgo", "delaygo", "fdanti", "reactanti", "delayanti",
	"dm1", "dm2", "contextdm1", "contextdm2", "multidm",
	"delaydm1", "delaydm2", "contextdelaydm1", "contextdelaydm2", "multidelaydm",
	"dmsgo", "dmsnogo", "dmcgo", "dmcnogo",
}

// Sizes of the encoding: a fixation unit, two rings of 32 units and 20 rule
// units in; a fixation unit and one ring of 32 units out.
const (
	RingSize  = 32
	NumRules  = 20
	NumInputs = 1 + 2*RingSize + NumRules // 85
	NumOutput = 1 + RingSize              // 33
	RuleStart = 1 + 2*RingSize            // 65
)
