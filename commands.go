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

	"corral/store"
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

// templatesCommand handles `corral templates import DIR [--user NAME]`:
// templates belong to one account, the named one or else the only one.
func templatesCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "Usage: corral templates import DIR [--user NAME] [--data DIR]\n"
	if len(args) < 2 || args[0] != "import" {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	dir := args[1]
	username, rest, err := takeFlag(args[2:], "user")
	if err != nil {
		fmt.Fprint(stderr, usage)
		return err
	}
	cfg, err := parseConfig("templates import", rest, getenv, stderr)
	if err != nil {
		return flagErr(err)
	}
	db, err := openStore(cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := importOwner(ctx, db, username)
	if err != nil {
		return err
	}
	r, err := tmplfs.ImportDir(ctx, dir, u.ID, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "importing into %s's templates\n", u.Username)
	fmt.Fprint(stdout, r.String())
	if len(r.Errors) > 0 {
		return fmt.Errorf("%d template(s) could not be imported", len(r.Errors))
	}
	return nil
}

// importOwner is the account named by --user, or the only account.
func importOwner(ctx context.Context, db *store.DB, username string) (store.User, error) {
	if username != "" {
		u, err := db.UserByName(ctx, username)
		if err != nil {
			return u, fmt.Errorf("user %q: %w", username, err)
		}
		return u, nil
	}
	u, n, err := db.SoleUser(ctx)
	switch {
	case err != nil:
		return u, err
	case n == 0:
		return u, errors.New("templates belong to an account, and there is none yet: create one first (corral user add NAME, or the setup page)")
	case n > 1:
		return u, fmt.Errorf("templates belong to one account and there are %d: say whose with --user NAME", n)
	}
	return u, nil
}

// takeFlag removes --name VALUE (or --name=VALUE, or one dash) from args
// and returns its value and the other arguments.
func takeFlag(args []string, name string) (value string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		key, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case key != name:
			rest = append(rest, a)
		case hasVal:
			value = val
		case i+1 < len(args):
			value = args[i+1]
			i++
		default:
			return "", nil, fmt.Errorf("--%s needs a value", name)
		}
	}
	return value, rest, nil
}
