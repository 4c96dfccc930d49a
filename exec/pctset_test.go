package exec

import (
	"errors"
	"testing"
)

func TestPctSetFeaturesCommand(t *testing.T) {
	if got, err := PctSetFeaturesCommand(120, "nesting=1,keyctl=1"); err != nil || got != "pct set 120 --features nesting=1,keyctl=1" {
		t.Fatalf("command %q, %v", got, err)
	}
	for _, bad := range []struct {
		vmid     int
		features string
	}{
		{99, "keyctl=1"}, {1000000000, "keyctl=1"}, {120, ""},
		{120, "keyctl=1;reboot"}, {120, "mount=nfs"}, {120, "nesting=0"}, {120, "nesting=1,nesting=1"}, {120, "fuse=1,"},
	} {
		if _, err := PctSetFeaturesCommand(bad.vmid, bad.features); !errors.Is(err, ErrBadArgument) {
			t.Errorf("pct set command for %d %q: %v", bad.vmid, bad.features, err)
		}
	}
}
