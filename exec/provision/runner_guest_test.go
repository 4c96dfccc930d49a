package provision

import (
	"testing"

	"corral/store"
)

// TestCreatedBy: a guest carrying a job's note is that job's, whatever its
// hostname became; another job's note makes it someone else's even with the
// same hostname; without a note (made before Corral wrote one, or the notes
// edited away) the hostname decides.
func TestCreatedBy(t *testing.T) {
	j := store.Job{ID: "job-A1_b", Plan: store.Plan{Hostname: "web"}}
	for _, tc := range []struct {
		g    GuestInfo
		want bool
	}{
		{GuestInfo{Hostname: "web", Description: CreatedNote("job-A1_b")}, true},
		{GuestInfo{Hostname: "renamed", Description: "my notes\n" + CreatedNote("job-A1_b") + "\n"}, true},
		{GuestInfo{Hostname: "web", Description: CreatedNote("job-other")}, false},
		{GuestInfo{Hostname: "web"}, true},
		{GuestInfo{Hostname: "web", Description: "hand-made"}, true},
		{GuestInfo{Hostname: "db"}, false},
	} {
		if got := createdBy(j, tc.g); got != tc.want {
			t.Errorf("createdBy(%+v) = %v", tc.g, got)
		}
	}
}
