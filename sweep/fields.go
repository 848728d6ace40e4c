package sweep

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/modsweep/modsweep/core"
)

// configField is one core.Config field that a sweep file may set.
type configField struct {
	name  string // yaml name
	index int    // index in core.Config
	typ   reflect.Type
}

// reservedFields are the core.Config fields that the axes set, so base,
// regularizer blocks and grid axes must not set them.
var reservedFields = map[string]string{
	"regularizer": "the regularizers section sets it: add a block under regularizers",
	"lambda":      "the regularizers section sets it: list values under regularizers.<name>.lambda",
	"seed":        "the seeds section sets it: list values under seeds",
}

var configFields, configFieldNames = indexConfigFields()

func indexConfigFields() (map[string]configField, []string) {
	byName := map[string]configField{}
	var names []string
	t := reflect.TypeOf(core.Config{})
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		byName[name] = configField{name: name, index: i, typ: f.Type}
		if _, reserved := reservedFields[name]; !reserved {
			names = append(names, name)
		}
	}
	return byName, names
}

func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// override is one field value that a layer of the sweep file sets.
type override struct {
	field  configField
	value  reflect.Value // of type field.typ
	line   int
	origin string // path of the setting in the file, such as base.hidden
}

// apply sets the field in cfg, copying slices so trials share no storage.
func (o override) apply(cfg *core.Config) {
	dst := reflect.ValueOf(cfg).Elem().Field(o.field.index)
	if o.value.Kind() == reflect.Slice {
		if o.value.IsNil() {
			dst.SetZero()
			return
		}
		dup := reflect.MakeSlice(o.value.Type(), o.value.Len(), o.value.Len())
		reflect.Copy(dup, o.value)
		dst.Set(dup)
		return
	}
	dst.Set(o.value)
}

// decodeOverride decodes the value node of one config field. The error
// names the line, the path, the value and the expected type.
func (p *parser) decodeOverride(key, value *yaml.Node, path string) (override, bool) {
	name := key.Value
	field, known := configFields[name]
	if !known {
		p.errorf(key.Line, path, "unknown field %q: use one of %s", name, strings.Join(configFieldNames, ", "))
		return override{}, false
	}
	if reason, reserved := reservedFields[name]; reserved {
		p.errorf(key.Line, path, "%s cannot be set here, because %s", name, reason)
		return override{}, false
	}

	value = resolve(value)
	if !p.checkShape(value, field.typ, path) {
		return override{}, false
	}
	ptr := reflect.New(field.typ)
	if err := decodeStrict(value, ptr.Interface()); err != nil {
		p.errorf(value.Line, path, "%s is not %s", describeNode(value), describeType(field.typ))
		return override{}, false
	}
	return override{field: field, value: ptr.Elem(), line: value.Line, origin: path}, true
}

// checkShape reports unknown keys inside list-of-struct fields (such as
// lambda_schedule), which yaml.v3's Node.Decode would silently drop.
func (p *parser) checkShape(node *yaml.Node, typ reflect.Type, path string) bool {
	if typ.Kind() != reflect.Slice || typ.Elem().Kind() != reflect.Struct {
		return true
	}
	if node.Kind != yaml.SequenceNode {
		p.errorf(node.Line, path, "%s is not %s", describeNode(node), describeType(typ))
		return false
	}
	known := map[string]bool{}
	var names []string
	for i := range typ.Elem().NumField() {
		if name := yamlName(typ.Elem().Field(i)); name != "" {
			known[name] = true
			names = append(names, name)
		}
	}
	ok := true
	for i, item := range node.Content {
		item = resolve(item)
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.MappingNode {
			p.errorf(item.Line, itemPath, "%s is not a mapping with keys %s", describeNode(item), strings.Join(names, ", "))
			ok = false
			continue
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			key := item.Content[j]
			if !known[key.Value] {
				p.errorf(key.Line, itemPath, "unknown field %q: use one of %s", key.Value, strings.Join(names, ", "))
				ok = false
			}
		}
	}
	return ok
}

// decodeStrict decodes node into ptr like yaml.v3, except that a number
// with a fraction is rejected for an integer target, which yaml.v3 would
// truncate (16.7 would become 16).
func decodeStrict(node *yaml.Node, ptr any) error {
	kind := reflect.TypeOf(ptr).Elem().Kind()
	if node.Kind == yaml.ScalarNode && (kind == reflect.Int || kind == reflect.Uint64) {
		var f float64
		if node.Decode(&f) == nil && f != math.Trunc(f) {
			return fmt.Errorf("%s is not a whole number", node.Value)
		}
	}
	return node.Decode(ptr)
}

// resolve follows a YAML alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describeNode renders a node for an error message: a scalar as its text,
// anything else by its kind.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", truncate(n.Value, 40))
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	default:
		return "an empty value"
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// describeType names what a YAML value must look like to decode into typ.
func describeType(typ reflect.Type) string {
	switch typ.Kind() {
	case reflect.Int:
		return "a whole number"
	case reflect.Uint64:
		return "a whole number >= 0"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.Struct {
			return "a list of mappings"
		}
		return "a list of " + strings.TrimPrefix(describeType(typ.Elem()), "a ") + "s"
	default:
		return "a value of type " + typ.String()
	}
}
