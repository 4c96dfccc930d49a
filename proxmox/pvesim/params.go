package pvesim

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// params are a request's parameters after pve-http-server's extract_params:
// body values, overridden by query values, plus the path's own parameters.
type params map[string]string

// readParams collects parameters the way pveproxy does. Keys sent twice are
// reported as an ARRAY type error, as PVE does.
func readParams(r *http.Request) (params, *apiError) {
	p := params{}
	errs := map[string]string{}
	add := func(vals url.Values) {
		for k, vs := range vals {
			if len(vs) > 1 {
				errs[k] = "type check ('string') failed - got ARRAY"
				continue
			}
			p[k] = vs[0]
		}
	}
	switch r.Method {
	case http.MethodGet, http.MethodDelete, http.MethodHead:
		if r.ContentLength > 0 {
			return nil, errStatus(http.StatusNotImplemented, "Unexpected content for method '%s'", r.Method)
		}
	default:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, errStatus(http.StatusBadRequest, "unable to read request body")
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/json" && len(body) > 0 {
			jp, e := jsonParams(body)
			if e != nil {
				return nil, e
			}
			for k, v := range jp {
				p[k] = v
			}
		} else if len(body) > 0 {
			vals, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, errStatus(http.StatusBadRequest, "unable to parse request body")
			}
			add(vals)
		}
	}
	add(r.URL.Query())
	if len(errs) > 0 {
		return nil, errParam(errs)
	}
	return p, nil
}

// jsonParams flattens a JSON body: true/false become 1/0, numbers their text.
func jsonParams(body []byte) (params, *apiError) {
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, errStatus(http.StatusBadRequest, "malformed JSON body")
	}
	p := params{}
	errs := map[string]string{}
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			p[k] = v
		case json.Number:
			p[k] = v.String()
		case bool:
			p[k] = map[bool]string{true: "1", false: "0"}[v]
		case nil:
		default:
			errs[k] = fmt.Sprintf("type check ('string') failed - got %s", jsonKind(v))
		}
	}
	if len(errs) > 0 {
		return nil, errParam(errs)
	}
	return p, nil
}

func jsonKind(v any) string {
	if _, ok := v.([]any); ok {
		return "ARRAY"
	}
	return "HASH"
}

// kind is the JSON-schema type of a parameter.
type kind int

const (
	kString kind = iota
	kInt
	kNumber
	kBool
	kEnum
	kVMID
	kNode
	kDNS
	kStorageID
)

// prop is one parameter of an endpoint's schema.
type prop struct {
	kind     kind
	required bool
	min, max *int64
	minLen   int
	maxLen   int
	enum     []string
	// format checks a string's format and returns what follows PVE's
	// "invalid format - " when it fails; pattern must match the whole value.
	format  func(v string) string
	pattern *regexp.Regexp
}

// schema maps parameter names to their definitions; anything else is refused.
type schema map[string]prop

func lim(n int64) *int64 { return &n }

var (
	vmidRe      = regexp.MustCompile(`^[1-9][0-9]{2,8}$`)
	dnsRe       = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?$`)
	storageIDRe = regexp.MustCompile(`(?i)^[a-z][a-z0-9\-_.]*[a-z0-9]$`)
	intRe       = regexp.MustCompile(`^[+-]?\d+$`)
	numberRe    = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)
)

func parseInt(v string) (int64, bool) {
	if !intRe.MatchString(v) {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// check validates p against the schema, with PVE's JSONSchema.pm messages.
func (s schema) check(p params) *apiError {
	errs := map[string]string{}
	for k, v := range p {
		d, ok := s[k]
		if !ok {
			errs[k] = "property is not defined in schema and the schema does not allow additional properties"
			continue
		}
		if msg := d.check(v); msg != "" {
			errs[k] = msg
		}
	}
	for k, d := range s {
		if _, ok := p[k]; d.required && !ok {
			errs[k] = "property is missing and it is not optional"
		}
	}
	if len(errs) > 0 {
		return errParam(errs)
	}
	return nil
}

func (d prop) check(v string) string {
	switch d.kind {
	case kInt, kVMID:
		n, ok := parseInt(v)
		if !ok {
			return fmt.Sprintf("type check ('integer') failed - got '%s'", v)
		}
		if d.kind == kVMID && !vmidRe.MatchString(v) {
			return "invalid format - value does not look like a valid VM ID\n"
		}
		if d.min != nil && n < *d.min {
			return fmt.Sprintf("value must have a minimum value of %d", *d.min)
		}
		if d.max != nil && n > *d.max {
			return fmt.Sprintf("value must have a maximum value of %d", *d.max)
		}
	case kNumber:
		if !numberRe.MatchString(v) {
			return fmt.Sprintf("type check ('number') failed - got '%s'", v)
		}
		f, _ := strconv.ParseFloat(v, 64)
		if d.min != nil && f < float64(*d.min) {
			return fmt.Sprintf("value must have a minimum value of %d", *d.min)
		}
		if d.max != nil && f > float64(*d.max) {
			return fmt.Sprintf("value must have a maximum value of %d", *d.max)
		}
	case kBool:
		if v != "0" && v != "1" {
			return fmt.Sprintf("type check ('boolean') failed - got '%s'", v)
		}
	case kEnum:
		for _, e := range d.enum {
			if v == e {
				return ""
			}
		}
		return fmt.Sprintf("value '%s' does not have a value in the enumeration '%s'", v, strings.Join(d.enum, ", "))
	case kNode:
		if !nodeNameRe.MatchString(v) {
			return "invalid format - value does not look like a valid node name\n"
		}
	case kDNS:
		if !dnsRe.MatchString(v) {
			return "invalid format - value does not look like a valid DNS name\n"
		}
	case kStorageID:
		if !storageIDRe.MatchString(v) {
			return fmt.Sprintf("invalid format - storage ID '%s' contains illegal characters\n", v)
		}
	}
	if d.format != nil {
		if msg := d.format(v); msg != "" {
			return "invalid format - " + msg
		}
	}
	if d.pattern != nil && !d.pattern.MatchString(v) {
		return "value does not match the regex pattern"
	}
	if d.maxLen > 0 && len(v) > d.maxLen {
		return fmt.Sprintf("value may only be %d characters long", d.maxLen)
	}
	if d.minLen > 0 && len(v) < d.minLen {
		return fmt.Sprintf("value must be at least %d characters long", d.minLen)
	}
	return ""
}

// boolParam reads a validated 0/1 parameter.
func (p params) boolParam(k string) bool { return p[k] == "1" }

// intParam reads a validated integer parameter, or def when absent.
func (p params) intParam(k string, def int) int {
	if v, ok := p[k]; ok {
		n, _ := parseInt(v)
		return int(n)
	}
	return def
}
