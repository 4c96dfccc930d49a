package store

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// dockerKeyFingerprint is the fingerprint Docker's install guide gives for
// its apt repository key.
const dockerKeyFingerprint = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"

// TestDockerAptKeyIsDockers checks the key the Docker host template ships:
// its armor checksum holds and its primary key has Docker's fingerprint
// (SHA-1 over the version 4 public-key packet, RFC 4880 §12.2).
func TestDockerAptKeyIsDockers(t *testing.T) {
	raw := dearmor(t, dockerAptKey)
	body := firstPacket(t, raw, 6)
	h := sha1.New()
	h.Write([]byte{0x99, byte(len(body) >> 8), byte(len(body))})
	h.Write(body)
	if got := fmt.Sprintf("%X", h.Sum(nil)); got != dockerKeyFingerprint {
		t.Fatalf("fingerprint %s, want Docker's %s", got, dockerKeyFingerprint)
	}

	tmpls := BuiltinTemplates()
	i := slices.IndexFunc(tmpls, func(t Template) bool { return t.Name == "Docker host" })
	if i < 0 {
		t.Fatal("no Docker host built-in")
	}
	d := tmpls[i]
	j := slices.IndexFunc(d.Files, func(f File) bool { return f.TargetDir+"/"+f.Name == "/etc/apt/keyrings/docker.asc" })
	if j < 0 || d.Files[j].Content != dockerAptKey || d.Files[j].Policy != PolicyReplace {
		t.Fatalf("the template does not place the key at /etc/apt/keyrings/docker.asc: %+v", d.Files)
	}
	var scripts strings.Builder
	for _, s := range d.Scripts {
		scripts.WriteString(s.Content)
	}
	for _, want := range []string{"signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian",
		"apt-get install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin"} {
		if !strings.Contains(scripts.String(), want) {
			t.Errorf("the scripts lack %q", want)
		}
	}
	for _, pkg := range []string{"docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin"} {
		if !strings.Contains(d.Description, pkg) {
			t.Errorf("the description does not say it installs %s: %q", pkg, d.Description)
		}
	}
}

// dearmor decodes an ASCII-armored block and checks its CRC-24.
func dearmor(t *testing.T, armored string) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(armored), "\n")
	if len(lines) < 4 || lines[0] != "-----BEGIN PGP PUBLIC KEY BLOCK-----" || lines[len(lines)-1] != "-----END PGP PUBLIC KEY BLOCK-----" {
		t.Fatal("not an armored public key block")
	}
	var b64, sum string
	inBody := false
	for _, l := range lines[1 : len(lines)-1] {
		switch {
		case !inBody:
			inBody = l == "" // headers end at the first blank line
		case strings.HasPrefix(l, "="):
			sum = l[1:]
		default:
			b64 += l
		}
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	want, err := base64.StdEncoding.DecodeString(sum)
	if err != nil || len(want) != 3 {
		t.Fatalf("armor checksum %q", sum)
	}
	if got := crc24(raw); !bytes.Equal(got, want) {
		t.Fatalf("armor checksum %X, computed %X", want, got)
	}
	return raw
}

// crc24 is OpenPGP's armor checksum (RFC 4880 §6.1).
func crc24(b []byte) []byte {
	crc := uint32(0xB704CE)
	for _, c := range b {
		crc ^= uint32(c) << 16
		for range 8 {
			crc <<= 1
			if crc&0x1000000 != 0 {
				crc ^= 0x1864CFB
			}
		}
	}
	return []byte{byte(crc >> 16), byte(crc >> 8), byte(crc)}
}

// firstPacket returns the body of the first packet, which must have the
// given tag; both header formats with one- or two-byte lengths are read.
func firstPacket(t *testing.T, raw []byte, tag byte) []byte {
	t.Helper()
	if len(raw) < 3 || raw[0]&0x80 == 0 {
		t.Fatal("no OpenPGP packet")
	}
	var got byte
	var n, hdr int
	if raw[0]&0x40 != 0 { // new format
		got = raw[0] & 0x3f
		switch l := int(raw[1]); {
		case l < 192:
			n, hdr = l, 2
		case l < 224:
			n, hdr = (l-192)<<8+int(raw[2])+192, 3
		default:
			t.Fatal("unsupported packet length")
		}
	} else {
		got = (raw[0] >> 2) & 0x0f
		switch raw[0] & 3 {
		case 0:
			n, hdr = int(raw[1]), 2
		case 1:
			n, hdr = int(binary.BigEndian.Uint16(raw[1:3])), 3
		default:
			t.Fatal("unsupported packet length")
		}
	}
	if got != tag || hdr+n > len(raw) {
		t.Fatalf("first packet has tag %d and length %d, want tag %d", got, n, tag)
	}
	return raw[hdr : hdr+n]
}
