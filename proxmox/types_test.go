package proxmox

import (
	"encoding/json"
	"testing"
)

func TestTypes_Tolerant(t *testing.T) {
	ints := map[string]Int{`105`: 105, `"105"`: 105, `null`: 0, `""`: 0, `2.0`: 2, `"3192.000"`: 3192, `1e3`: 1000, `-1`: -1}
	for in, want := range ints {
		var v Int
		if err := json.Unmarshal([]byte(in), &v); err != nil || v != want {
			t.Errorf("Int(%s) = %d, %v; want %d", in, v, err, want)
		}
	}
	floats := map[string]Float{`0.0061`: 0.0061, `"0.12"`: 0.12, `0`: 0, `null`: 0, `""`: 0, `7`: 7}
	for in, want := range floats {
		var v Float
		if err := json.Unmarshal([]byte(in), &v); err != nil || v != want {
			t.Errorf("Float(%s) = %v, %v; want %v", in, v, err, want)
		}
	}
	bools := map[string]Bool{`1`: true, `0`: false, `true`: true, `false`: false, `"1"`: true, `"0"`: false, `null`: false, `"on"`: true, `"no"`: false}
	for in, want := range bools {
		var v Bool
		if err := json.Unmarshal([]byte(in), &v); err != nil || v != want {
			t.Errorf("Bool(%s) = %v, %v; want %v", in, v, err, want)
		}
	}
	for _, bad := range []string{`"abc"`, `[1]`, `{}`} {
		var i Int
		var f Float
		var b Bool
		if json.Unmarshal([]byte(bad), &i) == nil || json.Unmarshal([]byte(bad), &f) == nil || json.Unmarshal([]byte(bad), &b) == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
	var b Bool
	if json.Unmarshal([]byte(`2`), &b) == nil {
		t.Error("Bool accepted 2")
	}
}

func TestPropertyStrings(t *testing.T) {
	m := ParsePropertyString("local-lvm:vm-105-disk-0,size=8G,acl=1", "volume")
	if m["volume"] != "local-lvm:vm-105-disk-0" || m["size"] != "8G" || m["acl"] != "1" {
		t.Errorf("rootfs %v", m)
	}
	in := "name=eth0,bridge=vmbr0,firewall=1,gw=10.0.0.1,hwaddr=BC:24:11:2E:C5:7E,ip=10.0.0.5/24,ip6=auto,mtu=1500,tag=20,type=veth"
	n := ParseNetConfig(in)
	if n.String() != in {
		t.Errorf("net round trip:\n got %s\nwant %s", n.String(), in)
	}
	if n.StaticIPv4() != "10.0.0.5" {
		t.Errorf("static ip %q", n.StaticIPv4())
	}
	if ParseNetConfig("name=eth0,ip=manual").StaticIPv4() != "" {
		t.Error("manual ip reported as static")
	}
	ft := ParseFeatures("nesting=1,keyctl=on,fuse=0,mount=nfs;cifs")
	if !ft.Nesting || !ft.Keyctl || ft.Fuse || ft.Mount != "nfs;cifs" {
		t.Errorf("features %+v", ft)
	}
	if s := ft.String(); s != "keyctl=1,nesting=1,mount=nfs;cifs" {
		t.Errorf("features string %q", s)
	}
	if (Features{}).String() != "" {
		t.Error("empty features not empty")
	}
}
