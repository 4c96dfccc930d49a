package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"corral/store"
)

// `corral user …` works whether or not Corral is running. A running
// server holds the database lock, so the command then travels to it over
// the admin socket (adminsock.go) and the server runs it; otherwise the
// command opens the database itself. Either way doUserCommand does the
// work and writes the words, so the two paths cannot drift apart.

// userRequest is one user command, as it travels over the admin socket.
// The password is read by the command line, never by the server.
type userRequest struct {
	Command  string `json:"command"` // add, passwd, list, disable, enable
	Name     string `json:"name,omitempty"`
	Password string `json:"password,omitempty"`
	Invite   bool   `json:"invite,omitempty"` // add: make an invite link instead of setting a password
	Admin    bool   `json:"admin,omitempty"`  // add: as an administrator
	URL      string `json:"url,omitempty"`    // add --invite: Corral's address, for the link
}

// sshDisconnector cuts an account's SSH gateway connections; nil when no
// server (and so no gateway) runs.
type sshDisconnector interface {
	DisconnectUser(userID string) int
}

// cliRemote marks audit entries of the user command.
const cliRemote = "command line"

// doUserCommand runs req and returns what the command prints.
func doUserCommand(ctx context.Context, db *store.DB, gw sshDisconnector, req userRequest) (string, error) {
	switch req.Command {
	case "add":
		return userAddCmd(ctx, db, req)
	case "passwd":
		u, err := namedUser(ctx, db, req.Name)
		if err != nil {
			return "", err
		}
		if err := db.SetPassword(ctx, u.ID, req.Password); err != nil {
			return "", err
		}
		disconnect(gw, u.ID)
		cliAudit(ctx, db, "account.password", u, "set from the command line; signed out everywhere")
		return fmt.Sprintf("password changed for %s; all of their sessions were signed out\n", u.Username), nil
	case "disable", "enable":
		u, err := namedUser(ctx, db, req.Name)
		if err != nil {
			return "", err
		}
		disabled := req.Command == "disable"
		err = db.SetUserDisabled(ctx, u.ID, disabled)
		if errors.Is(err, store.ErrLastAdmin) {
			return "", fmt.Errorf("%s is the only enabled administrator and stays enabled: make another account an administrator first", u.Username)
		}
		if err != nil {
			return "", err
		}
		cliAudit(ctx, db, "account."+req.Command, u, "from the command line")
		if !disabled {
			return fmt.Sprintf("enabled %s; they can sign in again\n", u.Username), nil
		}
		disconnect(gw, u.ID)
		return fmt.Sprintf("disabled %s; they were signed out everywhere and cannot sign in until enabled\n", u.Username), nil
	case "list":
		return userListCmd(ctx, db)
	}
	return "", fmt.Errorf("unknown user command %q", req.Command)
}

func userAddCmd(ctx context.Context, db *store.DB, req userRequest) (string, error) {
	role := store.RoleMember
	if req.Admin {
		role = store.RoleAdmin
	}
	if !req.Invite {
		u, err := db.CreateUserAs(ctx, req.Name, req.Password, role)
		if err != nil {
			return "", err
		}
		cliAudit(ctx, db, "account.create", u, "role "+u.Role+", password set from the command line")
		return fmt.Sprintf("created user %s (%s)\n", u.Username, roleWord(u.Role)), nil
	}
	u, token, err := db.CreateInvitedUser(ctx, req.Name, role)
	if err != nil {
		return "", err
	}
	cliAudit(ctx, db, "account.create", u, "role "+u.Role+", invite link made on the command line")
	return fmt.Sprintf("created user %s (%s); send them this link to choose their password (it works once, for %s):\n  %s/invite/%s\n",
		u.Username, roleWord(u.Role), shortDuration(store.InviteTTL), strings.TrimRight(req.URL, "/"), token), nil
}

func userListCmd(ctx context.Context, db *store.DB) (string, error) {
	accounts, err := db.Accounts(ctx)
	if err != nil {
		return "", err
	}
	if len(accounts) == 0 {
		return "no accounts yet: create one with corral user add NAME, or on the setup page\n", nil
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tSTATUS\tCREATED\tLAST SIGN-IN\tNODES")
	for _, a := range accounts {
		status := "active"
		switch {
		case a.Disabled:
			status = "disabled"
		case a.Pending:
			status = "invited"
		}
		last := "never"
		if !a.LastSignIn.IsZero() {
			last = a.LastSignIn.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", a.Username, roleWord(a.Role), status, a.Created.Local().Format(time.DateOnly), last, a.Nodes)
	}
	w.Flush()
	return b.String(), nil
}

func roleWord(role string) string {
	if role == store.RoleAdmin {
		return "administrator"
	}
	return "member"
}

func namedUser(ctx context.Context, db *store.DB, name string) (store.User, error) {
	u, err := db.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no account named %q (see corral user list)", name)
	}
	return u, err
}

func disconnect(gw sshDisconnector, userID string) {
	if gw != nil {
		gw.DisconnectUser(userID)
	}
}

// cliAudit records a change made with the user command. The actor is
// whoever has the shell, not an account, so the entry names only the
// account it is about.
func cliAudit(ctx context.Context, db *store.DB, kind string, u store.User, detail string) {
	_ = db.Audit(ctx, store.AuditEntry{Kind: kind, SubjectID: u.ID, Target: u.Username, Remote: cliRemote, Detail: detail})
}

// userCommand is the run function of `corral user WORD`: it builds the
// request (reading a password when one is needed) and sends it where it
// can run.
func userCommand(word string) func(ctx context.Context, in invocation) error {
	return func(ctx context.Context, in invocation) error {
		req := userRequest{Command: word}
		if len(in.args) > 0 {
			req.Name = in.args[0]
		}
		switch word {
		case "add":
			req.Invite, req.Admin = in.cfg.option("invite") == "true", in.cfg.option("admin") == "true"
			if req.Invite {
				req.URL = in.cfg.option("url")
				if req.URL == "" {
					req.URL = defaultURL()
				}
			}
			if !req.Invite {
				pw, err := readPassword(in.stdin, in.stderr, true)
				if err != nil {
					return err
				}
				req.Password = pw
			}
		case "passwd":
			pw, err := readPassword(in.stdin, in.stderr, false)
			if err != nil {
				return err
			}
			req.Password = pw
		}
		out, err := runUserRequest(ctx, in, req)
		if err != nil {
			return err
		}
		fmt.Fprint(in.stdout, out)
		return nil
	}
}

// runUserRequest hands req to the running server, or runs it here when
// none runs.
func runUserRequest(ctx context.Context, in invocation, req userRequest) (string, error) {
	out, err := askServer(ctx, adminSocketPath(in.cfg.DataDir), req)
	if !errors.Is(err, errNoServer) {
		return out, err
	}
	db, err := openStore(in.cfg, newLogger(in.cfg, in.stderr))
	if err != nil {
		return "", err
	}
	defer db.Close()
	return doUserCommand(ctx, db, nil, req)
}

// defaultURL guesses Corral's address for invite links: this machine's
// name on the default port.
func defaultURL() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return "http://" + host + ":8080"
}
