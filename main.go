// Command corral is a home-lab web app for Proxmox VE containers: one binary
// with a browser UI, an embedded database and a built-in SSH gateway.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "corral:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `Corral: Proxmox VE containers for the home lab.

Usage:
  corral [serve] [flags]        run the web UI (:8080) and SSH gateway (:2222)
  corral demo [flags]           run against a simulated Proxmox cluster with a demo account
  corral user add NAME          create an account (password from the terminal or stdin)
  corral user passwd NAME       change a password and sign the account out everywhere
  corral templates import DIR [--user NAME]
                                import filesystem templates (NAME/template.conf + container-configs/)
                                into an account's templates (default: the only account)
  corral version                print the version

Run "corral serve --help" for the flags; each is also an environment variable.
`

// run is main without the process: tests call it with their own arguments,
// environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseConfig("serve", args, getenv, stderr)
		if err != nil {
			return flagErr(err)
		}
		return serve(ctx, cfg, stdout, nil)
	case "demo":
		return demo(ctx, args, getenv, stdout, stderr)
	case "user":
		return userCommand(ctx, args, getenv, stdin, stdout, stderr)
	case "templates":
		return templatesCommand(ctx, args, getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "corral %s (%s)\n", version, commit)
		return nil
	case "help", "--help", "-h", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
