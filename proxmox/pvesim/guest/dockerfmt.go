package guest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// dockerTemplate evaluates the small part of Go's template language that
// `docker … --format` is used with: text, {{.Field.Field}}, {{.}}, and the
// functions json, upper, lower and join. It stands in for text/template,
// whose method calls by name would keep every exported method of every
// type in Corral's binary (a few megabytes of go-redis alone).
func dockerTemplate(format string, data any) (string, error) {
	var out strings.Builder
	rest := format
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			out.WriteString(rest)
			return out.String(), nil
		}
		out.WriteString(rest[:open])
		end := strings.Index(rest[open:], "}}")
		if end < 0 {
			return "", fmt.Errorf("template: :1: unclosed action")
		}
		action := strings.TrimSpace(strings.Trim(rest[open+2:open+end], "-"))
		rest = rest[open+end+2:]
		s, err := dockerAction(action, data)
		if err != nil {
			return "", err
		}
		out.WriteString(s)
	}
}

// dockerAction evaluates one action: a field path, or a function of one.
func dockerAction(action string, data any) (string, error) {
	words := strings.Fields(action)
	if len(words) == 0 {
		return "", fmt.Errorf("template: :1: missing value for command")
	}
	fn, args := "", words
	if !strings.HasPrefix(words[0], ".") {
		fn, args = words[0], words[1:]
	}
	if len(args) == 0 {
		return "", fmt.Errorf("template: :1: wrong number of args for %s", fn)
	}
	v, err := dockerField(args[0], data)
	if err != nil {
		return "", err
	}
	switch {
	case fn == "" && len(args) == 1:
		return fmt.Sprint(v), nil
	case fn == "json" && len(args) == 1:
		b, err := json.Marshal(v)
		return string(b), err
	case fn == "upper" && len(args) == 1:
		return strings.ToUpper(fmt.Sprint(v)), nil
	case fn == "lower" && len(args) == 1:
		return strings.ToLower(fmt.Sprint(v)), nil
	case fn == "join" && len(args) == 2:
		sep, err := strconv.Unquote(args[1])
		list, ok := v.([]string)
		if err != nil || !ok {
			return "", fmt.Errorf("template: :1: wrong type for value; expected []string")
		}
		return strings.Join(list, sep), nil
	}
	return "", fmt.Errorf("template: :1: function %q not defined", fn)
}

// dockerField follows a path such as .Server.Version through structs and
// pointers, as the template language does.
func dockerField(path string, data any) (any, error) {
	v := reflect.ValueOf(data)
	if path == "." {
		return data, nil
	}
	for _, name := range strings.Split(strings.TrimPrefix(path, "."), ".") {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return nil, fmt.Errorf("template: :1: executing \"\" at <%s>: nil pointer evaluating %s", path, name)
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return nil, fmt.Errorf("template: :1: executing \"\" at <%s>: can't evaluate field %s", path, name)
		}
		f := v.FieldByName(name)
		if !f.IsValid() {
			return nil, fmt.Errorf("template: :1: executing \"\" at <%s>: can't evaluate field %s in type %s", path, name, v.Type())
		}
		v = f
	}
	return v.Interface(), nil
}
