package store

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the key file LoadKey reads and creates in the data directory.
const KeyFileName = "secret.key"

// LoadKey returns the 32-byte sealing key. envValue (CORRAL_SECRET_KEY) wins
// when set and must be 32 bytes in standard base64 or hex. Otherwise the key
// is read from DATA_DIR/secret.key, which is created with 32 random bytes
// (written as base64, mode 0600) when missing. A key file may hold base64,
// hex, or exactly 32 raw bytes.
func LoadKey(dataDir, envValue string) ([]byte, error) {
	if envValue != "" {
		key, err := ParseKey(envValue)
		if err != nil {
			return nil, fmt.Errorf("store: CORRAL_SECRET_KEY: %w", err)
		}
		return key, nil
	}
	path := filepath.Join(dataDir, KeyFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(dataDir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read key file: %w", err)
	}
	if len(data) == KeySize {
		// Raw bytes: no text encoding of 32 bytes is 32 bytes long.
		return data, nil
	}
	key, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("store: key file %s: %w", path, err)
	}
	return key, nil
}

// ParseKey accepts 32 bytes as hex or standard base64. Configuration uses it
// to refuse a malformed CORRAL_SECRET_KEY before anything is opened.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var key []byte
	if len(s) == hex.EncodedLen(KeySize) {
		key, _ = hex.DecodeString(s)
	}
	if key == nil {
		key, _ = base64.StdEncoding.DecodeString(s)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: the secret key must be %d bytes written as standard base64 (44 characters) or hex (64 characters); generate one with: openssl rand -base64 32", ErrInvalid, KeySize)
	}
	return key, nil
}

// createKeyFile writes a fresh random key. O_EXCL makes two processes
// racing on first start agree on one key: the loser reads the winner's.
func createKeyFile(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	key := make([]byte, KeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go ≥ 1.24)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKey(dataDir, "")
	}
	if err != nil {
		return nil, fmt.Errorf("store: create key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("store: write key file: %w", err)
	}
	return key, nil
}
