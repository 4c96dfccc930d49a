package store

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOpen_ErrLocked(t *testing.T) {
	_, path := mustOpen(t)
	// bbolt's flock is per open file, so a second Open in this process
	// contends exactly like a second corral process.
	_, err := Open(path, Options{Key: testKey, LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "in use by another corral process") {
		t.Errorf("message = %q", err)
	}
}

func TestOpen_FileMode(t *testing.T) {
	_, path := mustOpen(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpen_ErrSchemaTooNew(t *testing.T) {
	db, path := mustOpen(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put(metaSchema, []byte(strconv.Itoa(SchemaVersion+1)))
	})
	if cerr := raw.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	_, err = Open(path, Options{Key: testKey})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open err = %v, want ErrSchemaTooNew", err)
	}
	want := "schema " + strconv.Itoa(SchemaVersion+1) + ", this binary knows " + strconv.Itoa(SchemaVersion)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "upgrade corral") {
		t.Errorf("message = %q", err)
	}
}

func TestOpen_Reopen(t *testing.T) {
	db, path := mustOpen(t)
	u := mustUser(t, db, "alice")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got, err := db2.UserByID(t.Context(), u.ID); err != nil || got.Username != "alice" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func TestOpen_ErrWrongKey(t *testing.T) {
	db, path := mustOpen(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Options{Key: bytes.Repeat([]byte{8}, KeySize)})
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with other key err = %v, want ErrWrongKey", err)
	}
	if _, err := Open(path, Options{Key: []byte("short")}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Open with short key err = %v, want ErrInvalid", err)
	}
	db, err = Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatalf("Open with the right key after refusals: %v", err)
	}
	_ = db.Close()
}

func TestLoadKey(t *testing.T) {
	t.Run("CreatesFile", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		key, err := LoadKey(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != KeySize {
			t.Fatalf("len = %d", len(key))
		}
		fi, err := os.Stat(filepath.Join(dir, KeyFileName))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode = %v, want 0600", fi.Mode().Perm())
		}
		again, err := LoadKey(dir, "")
		if err != nil || !bytes.Equal(again, key) {
			t.Fatalf("second LoadKey = %x, %v; want the same key", again, err)
		}
	})
	t.Run("Env", func(t *testing.T) {
		want := bytes.Repeat([]byte{0xab}, KeySize)
		for _, env := range []string{base64.StdEncoding.EncodeToString(want), hex.EncodeToString(want), " " + hex.EncodeToString(want) + "\n"} {
			dir := t.TempDir()
			got, err := LoadKey(dir, env)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("LoadKey(env=%q) = %x, %v", env, got, err)
			}
			if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("key file written although env was set: %v", err)
			}
		}
	})
	t.Run("BadEnv", func(t *testing.T) {
		for _, env := range []string{"secret", base64.StdEncoding.EncodeToString([]byte("16 bytes only!!!")), strings.Repeat("zz", KeySize)} {
			_, err := LoadKey(t.TempDir(), env)
			if err == nil || !strings.Contains(err.Error(), "CORRAL_SECRET_KEY") || !strings.Contains(err.Error(), "32 bytes") {
				t.Errorf("LoadKey(env=%q) err = %v", env, err)
			}
		}
	})
	t.Run("BadFile", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte("too short\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKey(dir, "")
		if err == nil || !strings.Contains(err.Error(), KeyFileName) {
			t.Fatalf("err = %v, want an error naming the key file", err)
		}
	})
	t.Run("RawFile", func(t *testing.T) {
		dir := t.TempDir()
		want := bytes.Repeat([]byte{0x01}, KeySize)
		if err := os.WriteFile(filepath.Join(dir, KeyFileName), want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadKey(dir, "")
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("LoadKey = %x, %v", got, err)
		}
	})
}
