package exec

import (
	"slices"
	"testing"

	"golang.org/x/crypto/ssh"

	"corral/proxmox/pvesim/simtest"
)

// The cipher Corral prefers is the one a node's sshd agrees to, since the
// client's order decides.
func TestDial_NegotiatesPreferredCipher(t *testing.T) {
	sim := simtest.TwoHosts(t)
	was := aesHardware
	t.Cleanup(func() { aesHardware = was })
	for _, hw := range []bool{true, false} {
		aesHardware = hw
		h, err := Dial(t.Context(), target(t, sim.Node("pve1")))
		if err != nil {
			t.Fatal(err)
		}
		got := h.client.Conn.(ssh.AlgorithmsConnMetadata).Algorithms()
		h.Close()
		if want := cipherOrder(hw)[0]; got.Write.Cipher != want || got.Read.Cipher != want {
			t.Errorf("AES hardware %v: negotiated %s/%s, want %s", hw, got.Write.Cipher, got.Read.Cipher, want)
		}
	}
}

func TestCipherOrder(t *testing.T) {
	if c := cipherOrder(true); c[0] != ssh.CipherAES128GCM {
		t.Errorf("with AES instructions: %v", c)
	}
	if c := cipherOrder(false); c[0] != ssh.CipherChaCha20Poly1305 {
		t.Errorf("without AES instructions: %v", c)
	}
	// Both orders offer the same set, so no node that accepted Corral before
	// is refused now.
	a, b := cipherOrder(true), cipherOrder(false)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Errorf("orders differ in content: %v vs %v", a, b)
	}
}
