// Command corral is a home-lab web app for Proxmox VE containers: one binary
// with a browser UI, an embedded database and a built-in SSH gateway.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "corral:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode follows the flag package: 2 for a wrong command line or invalid
// settings, 1 for anything that went wrong afterwards.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// A command is one thing corral does; help and dispatch come from this list.
type command struct {
	name     string            // words after "corral", e.g. "user add"
	args     []string          // positional arguments, for help; "..." as the last takes any number
	summary  string            // one line for the command list and the command's help
	scope    scope             // the settings it reads
	defaults map[string]string // this command's own defaults, by setting name
	options  []option          // flags of this command alone, not settings (no environment variable)
	run      func(ctx context.Context, in invocation) error
}

// invocation is what a command runs with: settings already checked,
// positional arguments, and the process's streams.
type invocation struct {
	cfg    Config
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the web UI (:8080) and the SSH gateway (:2222); the default command",
			scope: forServer, run: func(ctx context.Context, in invocation) error { return serve(ctx, in.cfg, in.stdout, nil) }},
		{name: "demo", summary: "run against a simulated Proxmox cluster with a demo account, on loopback, with data in a new temporary directory",
			scope: forServer, defaults: demoDefaults(), run: demo},
		// The user commands work while corral serve runs (see usercmd.go).
		{name: "user add", args: []string{"NAME"}, summary: "create an account (password from the terminal or one line on standard input; --invite prints a link instead)",
			scope: forData, run: userCommand("add"), options: []option{
				{name: "invite", boolean: true, help: "print a one-time link (valid 24 hours) for the person to choose their own password, instead of asking for one"},
				{name: "admin", boolean: true, help: "make the account an administrator (the first account always is)"},
				{name: "url", arg: "URL", help: "Corral's address as people open it, for the --invite link; default http://THIS-HOST:8080"},
			}},
		{name: "user passwd", args: []string{"NAME"}, summary: "change a password and sign the account out everywhere",
			scope: forData, run: userCommand("passwd")},
		{name: "user list", summary: "list the accounts with their role, status and last sign-in",
			scope: forData, run: userCommand("list")},
		{name: "user disable", args: []string{"NAME"}, summary: "stop an account signing in, on the web and over SSH, and sign it out everywhere",
			scope: forData, run: userCommand("disable")},
		{name: "user enable", args: []string{"NAME"}, summary: "let a disabled account sign in again",
			scope: forData, run: userCommand("enable")},
		{name: "templates import", args: []string{"DIR"}, summary: "import filesystem templates (NAME/template.conf + container-configs/) into one account",
			scope: forData, run: templatesImport,
			options: []option{{name: "user", arg: "NAME", help: "the account that owns the imported templates; may be left out when there is only one"}}},
		{name: "version", summary: "print the version", run: printVersion},
		{name: "help", args: []string{"[COMMAND]..."}, summary: "list the commands, or show one command's help", run: showHelp},
	}
}

// demoDefaults keep the demo on loopback, because its password is printed on
// the terminal, and its data in a fresh temporary directory (the "*").
func demoDefaults() map[string]string {
	return map[string]string{
		"addr": "127.0.0.1:8080", "ssh-addr": "127.0.0.1:2222",
		"data": filepath.Join(os.TempDir(), "corral-demo-*"),
	}
}

func (c command) usage() string {
	u := "corral " + c.name
	if len(c.args) > 0 {
		u += " " + strings.Join(c.args, " ")
	}
	if c.scope != 0 {
		u += " [flags]"
	}
	return u
}

// takes reports whether the command accepts n positional arguments.
func (c command) takes(n int) bool {
	if len(c.args) > 0 && strings.HasSuffix(c.args[len(c.args)-1], "...") {
		return n >= len(c.args)-1
	}
	return n == len(c.args)
}

// run is main without the process: tests call it with their own arguments,
// environment and streams. Nothing is opened or created before the command
// line and the settings have been checked, so --help touches nothing.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest, err := findCommand(args)
	if err != nil {
		return err
	}
	cfg, pos, err := parseConfig(cmd, rest, lookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		writeHelp(stdout, cmd)
		return nil
	}
	if err != nil {
		return err
	}
	if !cmd.takes(len(pos)) {
		return usageError{"usage: " + cmd.usage() + " (see corral " + cmd.name + " --help)"}
	}
	return cmd.run(ctx, invocation{cfg: cfg, args: pos, stdin: stdin, stdout: stdout, stderr: stderr})
}

func isHelpFlag(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// findCommand picks the command args name; no command (or flags first) is serve.
func findCommand(args []string) (command, []string, error) {
	byName := func(name string) command { c, _ := commandNamed(name); return c }
	switch {
	case len(args) == 0:
		return byName("serve"), args, nil
	case isHelpFlag(args[0]):
		return byName("help"), args[1:], nil
	case args[0] == "--version" || args[0] == "-version":
		return byName("version"), args[1:], nil
	case strings.HasPrefix(args[0], "-"):
		return byName("serve"), args, nil
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], nil
		}
	}
	if group := groupOf(args[0]); len(group) > 0 {
		if len(args) > 1 && isHelpFlag(args[1]) {
			return byName("help"), args[:1], nil
		}
		return command{}, nil, usageError{fmt.Sprintf("corral %s needs one of: %s (see corral %s --help)", args[0], strings.Join(group, ", "), args[0])}
	}
	return command{}, nil, usageError{fmt.Sprintf("unknown command %q (see corral --help)", args[0])}
}

func commandNamed(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// groupOf lists the commands under a first word such as "user".
func groupOf(word string) []string {
	var out []string
	for _, c := range commands() {
		if strings.HasPrefix(c.name, word+" ") {
			out = append(out, c.name)
		}
	}
	return out
}

func printVersion(_ context.Context, in invocation) error {
	fmt.Fprintf(in.stdout, "corral %s (%s)\n", version, commit)
	return nil
}

// showHelp answers `corral help [COMMAND]`, `corral --help` and `corral user --help`.
func showHelp(_ context.Context, in invocation) error {
	topic := strings.Join(in.args, " ")
	if topic == "" {
		writeCommandList(in.stdout, "")
		return nil
	}
	if c, ok := commandNamed(topic); ok {
		writeHelp(in.stdout, c)
		return nil
	}
	if len(groupOf(topic)) > 0 {
		writeCommandList(in.stdout, topic+" ")
		return nil
	}
	return usageError{fmt.Sprintf("no command %q (see corral --help)", topic)}
}

// writeCommandList prints the commands whose names start with prefix.
func writeCommandList(w io.Writer, prefix string) {
	fmt.Fprint(w, "Corral: Proxmox VE containers for the home lab.\n\nUsage:\n")
	for _, c := range commands() {
		if strings.HasPrefix(c.name, prefix) {
			fmt.Fprintf(w, "  %-40s %s\n", c.usage(), c.summary)
		}
	}
	fmt.Fprint(w, "\nRun \"corral COMMAND --help\" for a command's settings; each flag is also an environment variable.\n")
}

func writeHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "Usage: %s\n\n%s.\n", c.usage(), strings.ToUpper(c.summary[:1])+c.summary[1:])
	writeSettingsHelp(w, c)
}
