package proxmox

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
)

// unwrapBoth decodes raw as /cluster/resources on the fast path (unwrap)
// and by encoding/json alone (unwrapSlowly).
func unwrapBoth(raw []byte) (fast, slow []Resource, fastTotal, slowTotal Int, fastErr, slowErr *Error) {
	c := &Client{addr: "pve:8006"}
	fail := func(message string, err error) *Error {
		return &Error{Kind: KindBadResponse, Message: message, Err: err}
	}
	fastErr = c.unwrap("GET", "/cluster/resources", raw, &fast, &fastTotal)
	slowErr = c.unwrapSlowly(raw, &slow, &slowTotal, fail)
	return
}

// FuzzUnwrap holds the envelope and row scanner to encoding/json: for any
// answer, both paths fail or both decode the same rows and total.
func FuzzUnwrap(f *testing.F) {
	fixture, err := os.ReadFile("testdata/cluster_resources_vm.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(fixture),
		`{"data":[]}`, `{"data":null}`, `{"data":[null,{}]}`, ` {"total":2, "data":[{"vmid":"7"}]} `,
		`{"data":[{"name":"caf\u00e9","tags":"a;b"}]}`, `{"data":[{"name":"tab\there"}]}`,
		`{"data":[{"VMID":5,"Name":"upper"}]}`, `{"Data":[{"vmid":5}]}`, `{"data":[],"data":[{"vmid":1}]}`,
		`{"data":[{"vmid":1,"vmid":2}]}`, `{"data":[{"vmid":1.9e2,"cpu":"0.5","template":"yes"}]}`,
		`{"data":[{"vmid":{}}]}`, `{"data":[{"name":5}]}`, `{"data":[{"name":null,"node":"pve"}]}`,
		`{"data":[{"extra":{"nested":[1,2,{"x":"\"y\""}]},"vmid":3}]}`, `{"data":[{"vmid":-0}]}`,
		`{"data":[{"vmid":01}]}`, `{"data":[{"vmid":1,}]}`, `{"data":[1]}`, `{"data":{"vmid":1}}`,
		`[{"vmid":1}]`, `{"other":1}`, `{"data":[]} x`, `{"data":[{"name":"\ud800"}]}`,
		"{\"data\":[{\"name\":\"\xff\"}]}", `{"data":[{"ſtatus":"running"}]}`, `{"data":[],"total":"x"}`,
		`{"data":[],"total":null}`, `{"data":[{"tags":"a\u0000b"}]}`, `{"data":[{"vmid":1e400}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, slow, fastTotal, slowTotal, fastErr, slowErr := unwrapBoth(raw)
		if (fastErr == nil) != (slowErr == nil) {
			t.Fatalf("%q: fast path error %v, encoding/json error %v", raw, fastErr, slowErr)
		}
		if fastErr != nil {
			return
		}
		if !reflect.DeepEqual(fast, slow) || fastTotal != slowTotal {
			t.Fatalf("%q:\nfast %+v total %d\nslow %+v total %d", raw, fast, fastTotal, slow, slowTotal)
		}
	})
}

// TestDecodeResources_FastPathTaken checks that the common answer really
// takes the fast path (a scanner that always gave up would pass the fuzz
// test), and the shapes it hands back.
func TestDecodeResources_FastPathTaken(t *testing.T) {
	fixture, err := os.ReadFile("testdata/cluster_resources_vm.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []Resource
	if _, ok := decodeEnvelope(fixture, &rows); !ok {
		t.Fatal("the fixture was handed to encoding/json")
	}
	var want struct{ Data []Resource }
	if err := json.Unmarshal(fixture, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, want.Data) || len(rows) < 3 || rows[0].Tags != "iot;mqtt" {
		t.Fatalf("rows %+v, want %+v", rows, want.Data)
	}
	for _, handedBack := range []string{
		`{"data":[{"name":"caf\u00e9"}]}`, // escapes are unquoted by encoding/json
		`{"data":[{"VMID":5}]}`,           // encoding/json matches keys in any case
		`{"data":[{"name":5}]}`,           // a type mismatch is reported by encoding/json
		`{"data":[1]}`, `{"data":{"vmid":1}}`,
		`{"Data":[]}`, `{"data":[],"data":[]}`, `{"data":[]} x`, `{"total":1}`, `[]`,
	} {
		var rows []Resource
		if _, ok := decodeEnvelope([]byte(handedBack), &rows); ok {
			t.Errorf("%s: decoded on the fast path", handedBack)
		}
	}
	var total Int
	var ids []Int
	if err := (&Client{}).unwrap("GET", "/x", []byte(`{"total":"3","data":[1,2]}`), &ids, &total); err != nil || total != 3 || len(ids) != 2 {
		t.Errorf("other data with a total: %v %d %v", err, total, ids)
	}
}

// BenchmarkDecodeClusterResources decodes 1,000 rows as pvesim sends them,
// on the fast path and by encoding/json alone.
func BenchmarkDecodeClusterResources(b *testing.B) {
	row := `{"cpu":0.0123,"disk":1234567168,"diskread":10485760,"diskwrite":2097152,"id":"lxc/%d","maxcpu":2,"maxdisk":8589934592,"maxmem":2147483648,"mem":104857600,"name":"ct-%d","netin":1234567,"netout":654321,"node":"pve%d","status":"running","tags":"web;prod","template":0,"type":"lxc","uptime":3600,"vmid":%d}`
	raw := []byte(`{"data":[`)
	for i := range 1000 {
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = append(raw, []byte(fmt.Sprintf(row, 1000+i, i, i%8, 1000+i))...)
	}
	raw = append(raw, "]}"...)
	c := &Client{}
	fail := func(message string, err error) *Error { return &Error{Message: message, Err: err} }
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var rows []Resource
			if err := c.unwrap("GET", "/cluster/resources", raw, &rows, nil); err != nil || len(rows) != 1000 {
				b.Fatal(err, len(rows))
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var rows []Resource
			if err := c.unwrapSlowly(raw, &rows, nil, fail); err != nil || len(rows) != 1000 {
				b.Fatal(err, len(rows))
			}
		}
	})
}
