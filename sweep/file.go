package sweep

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/modsweep/modsweep/core"
)

// Limits of a sweep file.
const (
	// DefaultMaxTrials is the grid size above which a file is rejected
	// unless limits.max_trials raises it.
	DefaultMaxTrials = 10000
	// HardMaxTrials is the largest limits.max_trials accepted, so that a
	// short file cannot ask for an expansion that exhausts memory.
	HardMaxTrials = 100000
	// maxNameLength is the longest sweep name accepted.
	maxNameLength = 64
)

// ErrInvalidFile is wrapped by every error that Parse and ParseFile return
// for bad input.
var ErrInvalidFile = errors.New("invalid sweep file")

var namePattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

// File is a parsed and validated sweep file.
type File struct {
	Name        string
	Description string
	Source      string // file name used in error messages
	MaxTrials   int    // limits.max_trials, or DefaultMaxTrials

	base   []override
	regs   []regularizerAxis // in the order of core.Regularizers
	seeds  []uint64
	axes   []gridAxis // sorted by name
	trials []Trial    // expanded and deduplicated at parse time
	merged int        // expanded trials dropped as duplicates of earlier ones
}

// regularizerAxis is one block under regularizers.
type regularizerAxis struct {
	name      string
	lambdas   []float64 // sorted ascending; {0} for none
	overrides []override
}

// gridAxis is one entry under grid: a config field and its values.
type gridAxis struct {
	name   string
	values []gridValue
}

// gridValue is one value of a grid axis. A mapping entry sets several
// fields at once, such as hidden with grid_rows and grid_cols.
type gridValue struct {
	label     string
	overrides []override
}

// parser collects every error of a file so that one run reports them all.
type parser struct {
	source string
	errs   []fileError
	keys   map[*yaml.Node]*yaml.Node // value node to its key node, filled by mapping
}

// fileError is one problem found in a sweep file.
type fileError struct {
	line int // 0 for problems of the whole file
	msg  string
}

func (p *parser) errorf(line int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	if line > 0 {
		msg = fmt.Sprintf("line %d: %s", line, msg)
	}
	p.errs = append(p.errs, fileError{line: line, msg: msg})
}

// err returns every problem found so far, sorted by line, or nil.
func (p *parser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(p.errs, func(a, b fileError) int { return a.line - b.line })
	msgs := make([]string, len(p.errs))
	for i, e := range p.errs {
		msgs[i] = e.msg
	}
	return fmt.Errorf("%s: %w:\n  %s", p.source, ErrInvalidFile, strings.Join(msgs, "\n  "))
}

// ParseFile reads and parses the sweep file at path.
func ParseFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sweep file: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a sweep file, expands its grid and validates every trial
// with core.Config.Validate. source names the file in error messages. The
// error lists every problem found, each with its line, field and value.
func Parse(data []byte, source string) (*File, error) {
	if source == "" {
		source = "sweep file"
	}
	p := &parser{source: source}

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.errorf(0, "", "malformed YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, p.err()
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errorf(0, "", "the file is empty: it needs at least name and regularizers")
		return nil, p.err()
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "", "the top level is %s: it must be a mapping with name, base, regularizers, seeds, grid and limits", describeNode(root))
		return nil, p.err()
	}

	f := &File{Source: source, MaxTrials: DefaultMaxTrials}
	p.parseTop(f, root)
	if err := p.err(); err != nil {
		return nil, err
	}

	p.expand(f)
	if err := p.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// topKeys are the keys allowed at the top level of a sweep file.
var topKeys = []string{"name", "description", "base", "regularizers", "seeds", "grid", "limits"}

func (p *parser) parseTop(f *File, root *yaml.Node) {
	sections := p.mapping(root, "", topKeys)

	if n, ok := sections["name"]; ok {
		f.Name = p.parseName(n)
	} else {
		p.errorf(root.Line, "name", "missing: give the sweep a name of letters a-z, digits, _ and -")
	}
	if n, ok := sections["description"]; ok {
		if n.Kind != yaml.ScalarNode {
			p.errorf(n.Line, "description", "%s is not a string", describeNode(n))
		} else {
			f.Description = n.Value
		}
	}
	if n, ok := sections["base"]; ok {
		f.base = p.parseOverrides(n, "base")
	}
	if n, ok := sections["regularizers"]; ok {
		f.regs = p.parseRegularizers(n)
	} else {
		p.errorf(root.Line, "regularizers", "missing: list at least one of %s, for example `none: {}`", strings.Join(core.Regularizers, ", "))
	}
	f.seeds = []uint64{core.Default().Seed}
	if n, ok := sections["seeds"]; ok {
		f.seeds = p.parseSeeds(n)
	}
	if n, ok := sections["grid"]; ok {
		f.axes = p.parseGrid(n)
	}
	if n, ok := sections["limits"]; ok {
		p.parseLimits(f, n)
	}
}

// mapping returns the values of a mapping node by key, reporting keys
// outside allowed (when allowed is non-nil) and keys given twice.
func (p *parser) mapping(n *yaml.Node, path string, allowed []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := resolve(n.Content[i]), resolve(n.Content[i+1])
		keyPath := joinPath(path, key.Value)
		if key.Kind != yaml.ScalarNode {
			p.errorf(key.Line, path, "a key is %s: keys must be plain names", describeNode(key))
			continue
		}
		if allowed != nil && !slices.Contains(allowed, key.Value) {
			p.errorf(key.Line, path, "unknown field %q: use one of %s", key.Value, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[key.Value]; dup {
			p.errorf(key.Line, keyPath, "given twice: keep one")
			continue
		}
		out[key.Value] = value
		if p.keys == nil {
			p.keys = map[*yaml.Node]*yaml.Node{}
		}
		p.keys[value] = key
	}
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (p *parser) parseName(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || !namePattern.MatchString(n.Value) || len(n.Value) > maxNameLength {
		p.errorf(n.Line, "name", "%s is not a valid name: use 1 to %d characters of a-z, 0-9, _ and -", describeNode(n), maxNameLength)
		return ""
	}
	return n.Value
}

// parseOverrides decodes a mapping of core.Config fields, sorted by field
// name so that the key order of the file does not matter.
func (p *parser) parseOverrides(n *yaml.Node, path string) []override {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, path, "%s is not a mapping of trial configuration fields", describeNode(n))
		return nil
	}
	fields := p.mapping(n, path, nil)
	var out []override
	for _, name := range sortedKeys(fields) {
		key := p.keys[fields[name]]
		if o, ok := p.decodeOverride(key, fields[name], joinPath(path, name)); ok {
			out = append(out, o)
		}
	}
	return out
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (p *parser) parseRegularizers(n *yaml.Node) []regularizerAxis {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.errorf(n.Line, "regularizers", "%s is not a non-empty mapping: list at least one of %s, for example `none: {}`",
			describeNode(n), strings.Join(core.Regularizers, ", "))
		return nil
	}
	blocks := p.mapping(n, "regularizers", core.Regularizers)
	var out []regularizerAxis
	for _, name := range core.Regularizers {
		block, ok := blocks[name]
		if !ok {
			continue
		}
		if axis, ok := p.parseRegularizer(name, block); ok {
			out = append(out, axis)
		}
	}
	return out
}

// parseRegularizer parses one block: lambda (a list of numbers >= 0, not
// allowed for none) and any other core.Config fields, which apply only to
// this regularizer's trials.
func (p *parser) parseRegularizer(name string, n *yaml.Node) (regularizerAxis, bool) {
	path := "regularizers." + name
	axis := regularizerAxis{name: name}
	if isNull(n) {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, path, "%s is not a mapping: write {} or {lambda: [...]}", describeNode(n))
		return axis, false
	}

	rest := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}
	var lambdaNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if key := resolve(n.Content[i]); key.Value == "lambda" {
			if lambdaNode != nil {
				p.errorf(key.Line, path+".lambda", "given twice: keep one list")
				return axis, false
			}
			lambdaNode = resolve(n.Content[i+1])
			continue
		}
		rest.Content = append(rest.Content, n.Content[i], n.Content[i+1])
	}
	axis.overrides = p.parseOverrides(rest, path)

	if name == core.RegNone {
		if lambdaNode != nil {
			p.errorf(lambdaNode.Line, path+".lambda", "none has no penalty, so it takes no lambda: remove the list or move it to l1 or bimt")
			return axis, false
		}
		axis.lambdas = []float64{0}
		return axis, true
	}
	if lambdaNode == nil {
		p.errorf(n.Line, path+".lambda", "missing: %s needs a list of penalty strengths, for example lambda: [1e-4, 1e-3]", name)
		return axis, false
	}
	lambdas, ok := p.parseLambdas(lambdaNode, path+".lambda")
	axis.lambdas = lambdas
	return axis, ok
}

func (p *parser) parseLambdas(n *yaml.Node, path string) ([]float64, bool) {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		n = &yaml.Node{Kind: yaml.SequenceNode, Line: n.Line, Content: []*yaml.Node{n}}
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, path, "%s is not a list of numbers >= 0", describeNode(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		p.errorf(n.Line, path, "the list is empty: give at least one lambda, such as [1e-4, 1e-3]")
		return nil, false
	}
	ok := true
	var out []float64
	for i, item := range n.Content {
		item = resolve(item)
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		var v float64
		if item.Kind != yaml.ScalarNode || item.Decode(&v) != nil {
			p.errorf(item.Line, itemPath, "%s is not a number", describeNode(item))
			ok = false
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			p.errorf(item.Line, itemPath, "%s is not allowed: lambda must be a finite number >= 0", item.Value)
			ok = false
			continue
		}
		if slices.Contains(out, v) {
			p.errorf(item.Line, itemPath, "%s is listed twice: list each lambda once", item.Value)
			ok = false
			continue
		}
		out = append(out, v+0) // +0 turns -0 into 0
	}
	slices.Sort(out)
	return out, ok
}

// parseSeeds accepts a list of seeds or {count: N, start: S}, which means
// the seeds S, S+1, ..., S+N-1 (S defaults to 1).
func (p *parser) parseSeeds(n *yaml.Node) []uint64 {
	switch n.Kind {
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errorf(n.Line, "seeds", "the list is empty: give at least one seed")
			return nil
		}
		var out []uint64
		for i, item := range n.Content {
			item = resolve(item)
			var s uint64
			if item.Kind != yaml.ScalarNode || decodeStrict(item, &s) != nil {
				p.errorf(item.Line, fmt.Sprintf("seeds[%d]", i), "%s is not a whole number >= 0", describeNode(item))
				continue
			}
			if slices.Contains(out, s) {
				p.errorf(item.Line, fmt.Sprintf("seeds[%d]", i), "%d is listed twice: list each seed once", s)
				continue
			}
			out = append(out, s)
		}
		return out
	case yaml.MappingNode:
		fields := p.mapping(n, "seeds", []string{"count", "start"})
		count, start := 0, uint64(1)
		countNode, ok := fields["count"]
		if !ok {
			p.errorf(n.Line, "seeds.count", "missing: give the number of seeds, as in {count: 3}")
			return nil
		}
		if decodeStrict(countNode, &count) != nil || count <= 0 || count > HardMaxTrials {
			p.errorf(countNode.Line, "seeds.count", "%s is not a whole number from 1 to %d", describeNode(countNode), HardMaxTrials)
			return nil
		}
		if startNode, ok := fields["start"]; ok {
			if decodeStrict(startNode, &start) != nil {
				p.errorf(startNode.Line, "seeds.start", "%s is not a whole number >= 0", describeNode(startNode))
				return nil
			}
		}
		if start > math.MaxUint64-uint64(count-1) {
			p.errorf(countNode.Line, "seeds", "start %d plus count %d overflows a 64-bit seed", start, count)
			return nil
		}
		out := make([]uint64, count)
		for i := range out {
			out[i] = start + uint64(i)
		}
		return out
	default:
		p.errorf(n.Line, "seeds", "%s is not a list of seeds or {count: N, start: S}", describeNode(n))
		return nil
	}
}

func (p *parser) parseGrid(n *yaml.Node) []gridAxis {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "grid", "%s is not a mapping of field names to lists of values", describeNode(n))
		return nil
	}
	entries := p.mapping(n, "grid", nil)
	var out []gridAxis
	for _, name := range sortedKeys(entries) {
		if axis, ok := p.parseAxis(name, entries[name]); ok {
			out = append(out, axis)
		}
	}
	return out
}

// parseAxis parses grid.<name>: a list whose items are either values of
// the field or mappings that set the field together with others.
func (p *parser) parseAxis(name string, n *yaml.Node) (gridAxis, bool) {
	path := "grid." + name
	axis := gridAxis{name: name}
	key := p.keys[n]
	if key == nil {
		key = &yaml.Node{Kind: yaml.ScalarNode, Value: name, Line: n.Line}
	}
	_, known := configFields[name]
	if _, reserved := reservedFields[name]; !known || reserved {
		p.decodeOverride(key, n, path) // reports the unknown or reserved field
		return axis, false
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, path, "%s is not a list of values", describeNode(n))
		return axis, false
	}
	if len(n.Content) == 0 {
		p.errorf(n.Line, path, "the list is empty: give at least one value or remove the axis")
		return axis, false
	}

	ok := true
	labels := map[string]bool{}
	for i, item := range n.Content {
		item = resolve(item)
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		var value gridValue
		if item.Kind == yaml.MappingNode {
			value.overrides = p.parseOverrides(item, itemPath)
			if !slices.ContainsFunc(value.overrides, func(o override) bool { return o.field.name == name }) {
				p.errorf(item.Line, itemPath, "the mapping does not set %s: each entry of grid.%s must set it", name, name)
				ok = false
				continue
			}
		} else {
			o, valid := p.decodeOverride(key, item, itemPath)
			if !valid {
				ok = false
				continue
			}
			value.overrides = []override{o}
		}
		value.label = labelOverrides(name, value.overrides)
		if labels[value.label] {
			p.errorf(item.Line, itemPath, "%s is listed twice: list each value once", value.label)
			ok = false
			continue
		}
		labels[value.label] = true
		axis.values = append(axis.values, value)
	}
	return axis, ok
}

func (p *parser) parseLimits(f *File, n *yaml.Node) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "limits", "%s is not a mapping such as {max_trials: 10000}", describeNode(n))
		return
	}
	fields := p.mapping(n, "limits", []string{"max_trials"})
	if m, ok := fields["max_trials"]; ok {
		var v int
		if m.Kind != yaml.ScalarNode || decodeStrict(m, &v) != nil || v <= 0 || v > HardMaxTrials {
			p.errorf(m.Line, "limits.max_trials", "%s is not a whole number from 1 to %d", describeNode(m), HardMaxTrials)
			return
		}
		f.MaxTrials = v
	}
}
