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

// templatesImport imports filesystem templates into one account:
// `corral templates import DIR [--user NAME]`, the named account or else the only one.
func templatesImport(ctx context.Context, in invocation) error {
	if _, err := os.Stat(in.args[0]); err != nil {
		return fmt.Errorf("templates directory: %w", err)
	}
	db, err := openStore(in.cfg, newLogger(in.cfg, in.stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := importOwner(ctx, db, in.cfg.option("user"))
	if err != nil {
		return err
	}
	// Nobody to ask on the command line: templates of the same name are replaced.
	r, err := tmplfs.ImportDir(ctx, in.args[0], u.ID, db, tmplfs.Options{OverwriteAll: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(in.stdout, "importing into %s's templates\n", u.Username)
	fmt.Fprint(in.stdout, r.String())
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
