package proxmox

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The dashboard reads /cluster/resources of every cluster, a megabyte of
// JSON at 5,000 guests, and encoding/json spent most of that read checking
// the bytes once and reflecting over them again. This file is a strict
// scanner for exactly the common shapes: the {"data": ...} envelope and
// rows of flat Resource objects. Whatever it is not sure of (escapes,
// odd keys, a type mismatch, anything malformed) it hands back, and the
// caller decodes the same bytes with encoding/json, so an answer decodes
// the same either way (FuzzUnwrap holds the two paths to that).

// jsonScan walks b from i. Its methods consume one JSON element, validating
// it, and report false on anything that is not valid JSON.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value consumes one value and returns its bytes.
func (s *jsonScan) value() ([]byte, bool) {
	s.space()
	if s.i >= len(s.b) {
		return nil, false
	}
	start, ok := s.i, false
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok = s.str()
	case c == '{':
		ok = s.object(func([]byte, bool) bool { _, ok := s.value(); return ok })
	case c == '[':
		ok = s.array(func() bool { _, ok := s.value(); return ok })
	case c == '-' || c >= '0' && c <= '9':
		ok = s.number()
	case c == 't':
		ok = s.literal("true")
	case c == 'f':
		ok = s.literal("false")
	case c == 'n':
		ok = s.literal("null")
	}
	return s.b[start:s.i], ok
}

// str consumes a string; plain reports that its text is its bytes (no
// escapes, valid UTF-8), so it needs no unquoting.
func (s *jsonScan) str() (plain, ok bool) {
	s.i++ // the opening quote
	start, ascii, escaped := s.i, true, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		if !strSpecial[c] {
			s.i++
			continue
		}
		switch {
		case c == '"':
			text := s.b[start:s.i]
			s.i++
			return !escaped && (ascii || utf8.Valid(text)), true
		case c < 0x20:
			return false, false
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return false, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || !isHex4(s.b[s.i+2:s.i+6]) {
					return false, false
				}
				s.i += 6
			default:
				return false, false
			}
			continue
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return false, false
}

// strSpecial marks the bytes str must look at: the quote, the backslash,
// control characters and bytes outside ASCII.
var strSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
	}
	return t
}()

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// number consumes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *jsonScan) number() bool {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.peek() == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

func (s *jsonScan) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *jsonScan) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScan) literal(word string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return false
	}
	s.i += len(word)
	return true
}

// object consumes an object, calling member with each key's text (quotes
// removed; plain as for str) to consume the member's value; member
// returning false stops the scan.
func (s *jsonScan) object(member func(key []byte, plain bool) bool) bool {
	s.i++ // {
	s.space()
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		s.space()
		if s.peek() != '"' {
			return false
		}
		start := s.i
		plain, ok := s.str()
		if !ok {
			return false
		}
		key := s.b[start+1 : s.i-1]
		s.space()
		if s.peek() != ':' {
			return false
		}
		s.i++
		if !member(key, plain) {
			return false
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// array consumes an array, calling elem to consume each element.
func (s *jsonScan) array(elem func() bool) bool {
	s.i++ // [
	s.space()
	if s.peek() == ']' {
		s.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// end reports whether only white space is left.
func (s *jsonScan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// scanEnvelope walks a {"data": ...} envelope, validating the whole
// answer: data consumes the data member's value from s, and total is the
// total member's text. ok is false when the answer is not such an
// envelope, or not one this scanner is sure of (a key that encoding/json
// would match case-insensitively, a repeated member), or data gave up.
func scanEnvelope(raw []byte, data func(s *jsonScan) bool) (total []byte, ok bool) {
	s := &jsonScan{b: raw}
	s.space()
	if s.peek() != '{' {
		return nil, false
	}
	sawData := false
	ok = s.object(func(key []byte, plain bool) bool {
		switch {
		case !plain:
			return false
		case string(key) == "data" && !sawData:
			sawData = true
			s.space()
			return data(s)
		case string(key) == "total" && total == nil:
			v, ok := s.value()
			total = v
			return ok
		case foldsTo(key, "data", "total"):
			return false
		}
		_, ok := s.value()
		return ok
	})
	return total, ok && sawData && s.end()
}

// foldsTo reports whether key is one of names in another case, or holds
// bytes outside ASCII (which encoding/json may fold too): encoding/json
// matches struct fields case-insensitively, this scanner does not.
func foldsTo(key []byte, names ...string) bool {
	for _, c := range key {
		if c >= 0x80 {
			return true
		}
	}
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// resourceFields are Resource's JSON names, for foldsTo.
var resourceFields = []string{"id", "vmid", "node", "type", "status", "name", "cpu", "maxcpu", "mem", "maxmem",
	"disk", "maxdisk", "netin", "netout", "diskread", "diskwrite", "uptime", "template", "tags", "lock", "pool", "hastate"}

// resources decodes /cluster/resources rows from s; ok is false when the
// rows need encoding/json (see the top of this file).
func (s *jsonScan) resources() (rows []Resource, ok bool) {
	switch s.peek() {
	case 'n':
		return nil, s.literal("null")
	case '[':
	default:
		return nil, false
	}
	rows = make([]Resource, 0, (len(s.b)-s.i)/300) // a row is 300 to 400 bytes
	texts := map[string]string{}                   // node, type, status and tags repeat row after row
	ok = s.array(func() bool {
		var r Resource
		s.space()
		switch s.peek() {
		case 'n':
			if !s.literal("null") {
				return false
			}
		case '{':
			if !s.object(func(key []byte, plain bool) bool {
				v, ok := s.value()
				return ok && plain && r.set(key, v, texts)
			}) {
				return false
			}
		default:
			return false
		}
		rows = append(rows, r)
		return true
	})
	return rows, ok
}

// set stores one member of a row; false means encoding/json must decide.
// Texts that repeat across rows are taken from texts, one copy each.
func (r *Resource) set(key, v []byte, texts map[string]string) bool {
	var str *string
	var num interface{ UnmarshalJSON([]byte) error }
	repeats := false
	switch string(key) {
	case "id":
		str = &r.ID
	case "node":
		str, repeats = &r.Node, true
	case "type":
		str, repeats = &r.Type, true
	case "status":
		str, repeats = &r.Status, true
	case "name":
		str = &r.Name
	case "tags":
		str, repeats = &r.Tags, true
	case "lock":
		str, repeats = &r.Lock, true
	case "pool":
		str, repeats = &r.Pool, true
	case "hastate":
		str, repeats = &r.HAState, true
	case "vmid":
		num = &r.VMID
	case "cpu":
		num = &r.CPU
	case "maxcpu":
		num = &r.MaxCPU
	case "mem":
		num = &r.Mem
	case "maxmem":
		num = &r.MaxMem
	case "disk":
		num = &r.Disk
	case "maxdisk":
		num = &r.MaxDisk
	case "netin":
		num = &r.NetIn
	case "netout":
		num = &r.NetOut
	case "diskread":
		num = &r.DiskRead
	case "diskwrite":
		num = &r.DiskWrite
	case "uptime":
		num = &r.Uptime
	case "template":
		num = &r.Template
	default:
		return !foldsTo(key, resourceFields...) // an unknown member is skipped, as encoding/json does
	}
	if num != nil {
		return num.UnmarshalJSON(v) == nil
	}
	switch v[0] {
	case 'n': // null leaves a string as it was
		return true
	case '"':
		text := &jsonScan{b: v}
		if plain, _ := text.str(); plain {
			b := v[1 : len(v)-1]
			if !repeats {
				*str = string(b)
				return true
			}
			t, seen := texts[string(b)]
			if !seen {
				t = string(b)
				texts[t] = t
			}
			*str = t
			return true
		}
	}
	return false
}

// decodeEnvelope decodes an envelope's data into out and returns its
// total's text, on the fast path; ok false means encoding/json must.
func decodeEnvelope(raw []byte, out any) (total []byte, ok bool) {
	if rows, isRows := out.(*[]Resource); isRows {
		var fast []Resource
		total, ok = scanEnvelope(raw, func(s *jsonScan) bool {
			var ok bool
			fast, ok = s.resources()
			return ok
		})
		if ok {
			*rows = fast
		}
		return total, ok
	}
	var data []byte
	total, ok = scanEnvelope(raw, func(s *jsonScan) bool {
		var ok bool
		data, ok = s.value()
		return ok
	})
	if !ok || out == nil {
		return total, ok
	}
	// Not rows: encoding/json decodes the data alone, already validated.
	return total, json.Unmarshal(data, out) == nil
}
