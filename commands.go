package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"corral/store/tmplfs"
)

// userCommand handles `corral user add NAME` and `corral user passwd NAME`.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 || (args[0] != "add" && args[0] != "passwd") {
		fmt.Fprint(stderr, "Usage: corral user add NAME | corral user passwd NAME [--data DIR]\n")
		return errUsage
	}
	action, name := args[0], args[1]
	cfg, err := parseConfig("user "+action, args[2:], getenv, stderr)
	if err != nil {
		return flagErr(err)
	}
	pass, err := readPassword(stdin, stderr, action == "add")
	if err != nil {
		return err
	}
	db, err := openStore(cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	if action == "add" {
		u, err := db.CreateUser(ctx, name, pass)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s\n", u.Username)
		return nil
	}
	u, err := db.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	if err := db.SetPassword(ctx, u.ID, pass); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password changed for %s; all of their sessions were signed out\n", u.Username)
	return nil
}

// readPassword reads from the terminal without echo (asking twice for a new
// one), or one line from a pipe, so scripts can do `echo pw | corral user add x`.
func readPassword(stdin io.Reader, stderr io.Writer, confirm bool) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if confirm {
			fmt.Fprint(stderr, "Repeat password: ")
			q, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return "", err
			}
			if string(p) != string(q) {
				return "", errors.New("the two passwords differ")
			}
		}
		return string(p), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given on standard input")
	}
	return line, nil
}

// templatesCommand handles `corral templates import DIR`.
func templatesCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "import" {
		fmt.Fprint(stderr, "Usage: corral templates import DIR [--data DIR]\n")
		return errUsage
	}
	dir := args[1]
	cfg, err := parseConfig("templates import", args[2:], getenv, stderr)
	if err != nil {
		return flagErr(err)
	}
	db, err := openStore(cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := tmplfs.ImportDir(ctx, dir, db)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, r.String())
	if len(r.Errors) > 0 {
		return fmt.Errorf("%d template(s) could not be imported", len(r.Errors))
	}
	return nil
}
