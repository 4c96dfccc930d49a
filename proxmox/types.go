package proxmox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Proxmox is written in Perl, so a JSON value has whatever type its scalar last
// had: numbers arrive as strings, booleans as 0/1, and unset keys are absent.
// These types accept every form seen in the wild.

// Int is an integer that decodes from a JSON number (integer or float, which
// is truncated), a numeric string, an empty string or null.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (i *Int) UnmarshalJSON(b []byte) error {
	// A bare integer is by far the common case (14 per guest in
	// /cluster/resources); parse it without the allocations below.
	if plainNumber(b) {
		if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			*i = Int(n)
			return nil
		}
	}
	s, isNull := scalarText(b)
	if isNull || s == "" {
		*i = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*i = Int(n)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("proxmox: cannot decode %s as an integer", b)
	}
	*i = Int(f)
	return nil
}

// Float is a number that decodes from a JSON number, a numeric string, an
// empty string or null.
type Float float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	if plainNumber(b) {
		if v, err := strconv.ParseFloat(string(b), 64); err == nil {
			*f = Float(v)
			return nil
		}
	}
	s, isNull := scalarText(b)
	if isNull || s == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("proxmox: cannot decode %s as a number", b)
	}
	*f = Float(v)
	return nil
}

// Bool decodes from 0/1 (numbers or strings), true/false, on/off, yes/no and
// null (false). Proxmox mostly sends 0/1 but HA and older versions send true/false.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *Bool) UnmarshalJSON(b []byte) error {
	s, isNull := scalarText(b)
	if isNull {
		*v = false
		return nil
	}
	parsed, ok := parseBool(s)
	if !ok {
		return fmt.Errorf("proxmox: cannot decode %s as a boolean", b)
	}
	*v = Bool(parsed)
	return nil
}

// parseBool accepts the spellings Proxmox uses in JSON and in property strings.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "on", "yes":
		return true, true
	case "0", "false", "off", "no", "":
		return false, true
	}
	return false, false
}

// plainNumber reports whether b looks like a bare JSON number (no quotes,
// no null), worth a parse without unquoting.
func plainNumber(b []byte) bool {
	return len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9')
}

// scalarText returns the text of a JSON scalar with string quotes removed.
func scalarText(b []byte) (text string, isNull bool) {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return "", true
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err == nil {
			return strings.TrimSpace(s), false
		}
	}
	return string(b), false
}

// splitTags splits a Proxmox tag list (';', ',' or space separated).
func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
}

// rawString returns a JSON scalar as text (strings unquoted, others verbatim).
func rawString(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}
