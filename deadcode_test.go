package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A call of reflect's Method or MethodByName with a name not known at build
// time (text/template's field evaluation is one) makes the linker keep every
// exported method of every type: 28 MB instead of 19 MB on amd64, most of it
// go-redis. The linker marks such callers <ReflectMethod>; none may reach
// the binary.
func TestBinaryKeepsMethodDeadCodeElimination(t *testing.T) {
	cmd := exec.Command("go", "build", "-ldflags=-dumpdep", "-o", os.DevNull, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // -dumpdep writes to the linker's stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lines, found := 0, 0
	for sc.Scan() {
		lines++
		if line := sc.Text(); strings.Contains(line, "<ReflectMethod>") {
			if found++; found <= 5 {
				t.Errorf("linked: %s", line)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	if lines < 1000 {
		t.Fatalf("the linker's dependency dump has %d lines; is -dumpdep still supported?", lines)
	}
}
