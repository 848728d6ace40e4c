package task

// family groups the tasks that share timing distributions, input layout and
// response rule.
type family int

const (
	familyFD      family = iota // fdgo, fdanti: stimulus, then the fixation cue goes off
	familyReact                 // reactgo, reactanti: respond at stimulus onset
	familyDelay                 // delaygo, delayanti: stimulus, delay, then go
	familyDM                    // dm, contextdm, multidm: two simultaneous stimuli
	familyDelayDM               // the delayed DM tasks: two stimuli separated by a delay
	familyDMS                   // dmsgo, dmsnogo: match by location
	familyDMC                   // dmcgo, dmcnogo: match by category
)

// Rings whose strengths decide a decision-making trial.
const (
	attendRing1 = iota
	attendRing2
	attendSum // compare the strengths summed over both rings
)

// spec describes one task within its family.
type spec struct {
	family family
	// anti makes a go-family task respond opposite the stimulus.
	anti bool
	// attend selects the strengths that decide a DM trial.
	attend int
	// context makes DM stimuli appear in both rings with independent
	// strengths, so only the rule unit indicates which ring decides.
	context bool
	// multi makes DM stimuli appear in both rings with one strength split
	// between them, so the sum over rings decides.
	multi bool
	// nogo makes a matching task respond on non-match instead of match.
	nogo bool
}

// specs is indexed by rule index, in the order of Names.
var specs = [NumRules]spec{
	{family: familyFD},
	{family: familyReact},
	{family: familyDelay},
	{family: familyFD, anti: true},
	{family: familyReact, anti: true},
	{family: familyDelay, anti: true},
	{family: familyDM, attend: attendRing1},
	{family: familyDM, attend: attendRing2},
	{family: familyDM, attend: attendRing1, context: true},
	{family: familyDM, attend: attendRing2, context: true},
	{family: familyDM, attend: attendSum, multi: true},
	{family: familyDelayDM, attend: attendRing1},
	{family: familyDelayDM, attend: attendRing2},
	{family: familyDelayDM, attend: attendRing1, context: true},
	{family: familyDelayDM, attend: attendRing2, context: true},
	{family: familyDelayDM, attend: attendSum, multi: true},
	{family: familyDMS},
	{family: familyDMS, nogo: true},
	{family: familyDMC},
	{family: familyDMC, nogo: true},
}

// keepsFixationCue reports whether the fixation input stays on for the
// whole trial, so that the go cue is a stimulus onset.
func (s spec) keepsFixationCue() bool {
	return s.family == familyReact || s.family == familyDMS || s.family == familyDMC
}

// isMatching reports whether the task is a match/non-match task, whose
// no-go trials keep fixating to the end.
func (s spec) isMatching() bool {
	return s.family == familyDMS || s.family == familyDMC
}
