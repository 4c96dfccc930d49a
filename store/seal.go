package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// KeySize is the length of the sealing key: AES-256.
const KeySize = 32

// sealVersion prefixes every sealed value so the format can change later.
const sealVersion byte = 1

// sealer encrypts secrets with AES-256-GCM. The additional data binds a
// sealed value to the record (and field) it belongs to, so a value copied
// into another record does not open.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: secret key must be %d bytes, got %d", ErrInvalid, KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: gcm: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal returns version || nonce || ciphertext. An empty plaintext seals to
// nil so that "no secret" stays distinguishable and costs nothing.
func (s *sealer) seal(plaintext, ad string) []byte {
	if plaintext == "" {
		return nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go ≥ 1.24)
	out := append([]byte{sealVersion}, nonce...)
	return s.aead.Seal(out, nonce, []byte(plaintext), []byte(ad))
}

// open reverses seal; it fails with ErrUnseal for a value sealed under
// another key or other additional data.
func (s *sealer) open(sealed []byte, ad string) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	ns := s.aead.NonceSize()
	if sealed[0] != sealVersion || len(sealed) < 1+ns+s.aead.Overhead() {
		return "", fmt.Errorf("%w: unknown format", ErrUnseal)
	}
	nonce, ct := sealed[1:1+ns], sealed[1+ns:]
	pt, err := s.aead.Open(nil, nonce, ct, []byte(ad))
	if err != nil {
		return "", ErrUnseal
	}
	return string(pt), nil
}
