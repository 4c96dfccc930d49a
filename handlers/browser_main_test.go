package handlers_test

import (
	"testing"

	"corral/handlers/browsertest"
)

// TestMain shares one Chromium among the browser tests; each still gets a
// browser context of its own.
func TestMain(m *testing.M) { browsertest.Main(m) }
