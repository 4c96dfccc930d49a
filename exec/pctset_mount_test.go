package exec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"corral/proxmox/pvesim/simtest"
)

func TestBindMountValidate(t *testing.T) {
	for _, tc := range []struct {
		b    BindMount
		want error
	}{
		{BindMount{Index: 0, HostPath: "/srv/media", Path: "/media"}, nil},
		{BindMount{Index: 255, HostPath: "/mnt/nas/photos-2024", Path: "/data/photos", ReadOnly: true}, nil},
		{BindMount{Index: 256, HostPath: "/srv/media", Path: "/media"}, ErrBindIndex},
		{BindMount{HostPath: "srv/media", Path: "/media"}, ErrBindHostPath},
		{BindMount{HostPath: "/srv/../etc", Path: "/media"}, ErrBindHostPath},
		{BindMount{HostPath: "/srv/media/", Path: "/media"}, ErrBindHostPath},
		{BindMount{HostPath: "/srv/a,b", Path: "/media"}, ErrBindHostPath},
		{BindMount{HostPath: "/srv/$(id)", Path: "/media"}, ErrBindHostPath},
		{BindMount{HostPath: "/srv/my media", Path: "/media"}, ErrBindHostPath},
		{BindMount{HostPath: "/", Path: "/media"}, ErrBindHostPath},
		{BindMount{HostPath: "/etc/pve", Path: "/media"}, ErrBindHostDir},
		{BindMount{HostPath: "/root", Path: "/media"}, ErrBindHostDir},
		{BindMount{HostPath: "/srv/media", Path: "/"}, ErrBindPath},
		{BindMount{HostPath: "/srv/media", Path: "media"}, ErrBindPath},
		{BindMount{HostPath: "/srv/media", Path: "/media,ro=0"}, ErrBindPath},
	} {
		if err := tc.b.Validate(); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.b, err, tc.want)
		}
	}
	cmd, err := BindMount{Index: 2, HostPath: "/srv/media", Path: "/media", ReadOnly: true}.Command(105)
	if err != nil || cmd != "pct set 105 --mp2 /srv/media,mp=/media,ro=1" {
		t.Errorf("command = %q, %v", cmd, err)
	}
	if _, err := (BindMount{HostPath: "/etc", Path: "/x"}).Command(105); !errors.Is(err, ErrBadArgument) || !errors.Is(err, ErrBindHostDir) {
		t.Errorf("a bad mount built a command: %v", err)
	}
}

func TestHost_SetBindMount(t *testing.T) {
	sim := simtest.TwoHosts(t)
	h, err := Dial(t.Context(), target(t, sim.Node("pve1")))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	b := BindMount{Index: 0, HostPath: "/srv/media", Path: "/media", ReadOnly: true}

	// 105 runs: the host directory must exist to be mounted now.
	var errOut strings.Builder
	code, err := h.SetBindMount(t.Context(), 105, b, nil, &errOut)
	if err != nil || code != 255 || !strings.Contains(errOut.String(), "directory '/srv/media' does not exist") {
		t.Fatalf("missing host dir: %d, %v, %q", code, err, errOut.String())
	}
	if err := os.MkdirAll(filepath.Join(sim.Node("pve1").HostDir(), "srv", "media"), 0o755); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code, err := h.SetBindMount(t.Context(), 105, b, nil, &errOut); err != nil || code != 0 {
		t.Fatalf("bind mount: %d, %v, %q", code, err, errOut.String())
	}
	// Setting it again changes nothing: a mount point in use waits for a restart.
	if code, err := h.SetBindMount(t.Context(), 105, b, nil, &errOut); err != nil || code != 0 {
		t.Fatalf("again: %d, %v, %q", code, err, errOut.String())
	}
	if _, err := h.SetBindMount(t.Context(), 105, BindMount{HostPath: "/proc", Path: "/p"}, nil, nil); !errors.Is(err, ErrBindHostDir) {
		t.Errorf("a system dir was sent: %v", err)
	}
}
