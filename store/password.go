package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// kdfParams are argon2id parameters. They are encoded into every hash, so
// changing the defaults later leaves old hashes verifiable.
type kdfParams struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
	KeyLen  uint32
	SaltLen int
}

// defaultKDF follows the OWASP minimum for argon2id (m=19 MiB, t=2, p=1):
// about 0.1–0.2 s and 19 MiB per login on a Raspberry Pi 4, which keeps a
// Pi responsive under a burst of logins while making offline guessing of a
// stolen hash expensive.
func defaultKDF() kdfParams {
	return kdfParams{Time: 2, Memory: 19 * 1024, Threads: 1, KeyLen: 32, SaltLen: 16}
}

const (
	minPasswordLen = 8
	// maxPasswordLen bounds hashing work per request.
	maxPasswordLen = 1024
)

// ValidatePassword enforces the password length rules; the error wraps
// ErrInvalid and names the rule.
func ValidatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < minPasswordLen {
		return fmt.Errorf("%w: password must be at least %d characters", ErrInvalid, minPasswordLen)
	}
	if len(pw) > maxPasswordLen {
		return fmt.Errorf("%w: password must be at most %d bytes", ErrInvalid, maxPasswordLen)
	}
	return nil
}

// hash runs hashPassword in one of the DB's hashing slots.
func (db *DB) hash(ctx context.Context, pw string) (string, error) {
	if err := db.acquireHashSlot(ctx); err != nil {
		return "", err
	}
	defer db.releaseHashSlot()
	return hashPassword(pw, db.kdf), nil
}

// verify runs verifyPassword in one of the DB's hashing slots.
func (db *DB) verify(ctx context.Context, pw, encoded string) (bool, error) {
	if err := db.acquireHashSlot(ctx); err != nil {
		return false, err
	}
	defer db.releaseHashSlot()
	return verifyPassword(pw, encoded)
}

// releaseHashSlot gives the finished run's memory back to the system
// before the next run may start. An argon2id run leaves kdf.Memory (19 MiB)
// of garbage, and the next run allocated its own before the collector had
// freed it, so a burst of sign-ins held two or more: 81 MB peak in make
// load. Collecting alone was not enough (the next run did not always fit
// the freed space: 43 to 61 MB); returning the pages makes the next run
// fault in fresh ones. Both cost milliseconds on Corral's small heap,
// beside the hash's tenths of a second.
func (db *DB) releaseHashSlot() {
	debug.FreeOSMemory()
	<-db.hashSlots
}

func (db *DB) acquireHashSlot(ctx context.Context) error {
	select {
	case db.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("store: waiting to hash a password: %w", ctx.Err())
	}
}

// hashPassword returns a PHC-style string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func hashPassword(pw string, p kdfParams) string {
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go ≥ 1.24)
	sum := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(sum))
}

// verifyPassword reports whether pw matches the encoded hash, comparing in
// constant time.
func verifyPassword(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, fmt.Errorf("store: password hash: unknown format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("store: password hash: unsupported version %q", parts[2])
	}
	var p kdfParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("store: password hash parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("store: password hash salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("store: password hash: %w", err)
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
