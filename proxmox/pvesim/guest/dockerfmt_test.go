package guest

import (
	"strings"
	"testing"
)

func TestDockerTemplate(t *testing.T) {
	type side struct{ Version string }
	data := struct {
		Client, Server *side
		Name           string
		Tags           []string
	}{Client: &side{"28.0.1"}, Name: "ct101", Tags: []string{"a", "b"}}
	for format, want := range map[string]string{
		"{{.Client.Version}}":           "28.0.1",
		"v={{ .Name }} {{upper .Name}}": "v=ct101 CT101",
		`{{json .Client}}`:              `{"Version":"28.0.1"}`,
		`{{join .Tags ","}}`:            "a,b",
		"{{lower .Name}}-plain":         "ct101-plain",
		"no actions":                    "no actions",
	} {
		got, err := dockerTemplate(format, data)
		if err != nil || got != want {
			t.Errorf("%q = %q, %v; want %q", format, got, err, want)
		}
	}
	for format, want := range map[string]string{
		"{{.Server.Version}}": "nil pointer evaluating",
		"{{.Nope}}":           "can't evaluate field Nope",
		"{{.Name":             "unclosed action",
		"{{printf .Name}}":    `function "printf" not defined`,
		"{{}}":                "missing value",
		`{{join .Name ","}}`:  "expected []string",
	} {
		if _, err := dockerTemplate(format, data); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to say %q", format, err, want)
		}
	}
}
