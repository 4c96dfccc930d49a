package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"corral/store"
)

// The admin socket lets `corral user …` reach a running server: a unix
// socket in the data directory (mode 0600, in a 0700 directory), never a
// network port. The protocol is one JSON userRequest line from the client
// and one JSON adminReply line back; then the connection closes.

// adminSocketName is the socket's file name in the data directory.
const adminSocketName = "admin.sock"

// adminTimeout bounds one request, password hashing included.
const adminTimeout = time.Minute

// maxAdminRequest bounds a request line (a password is at most 1 KiB).
const maxAdminRequest = 64 << 10

// errNoServer means no server listens on the socket: the caller opens the
// database itself.
var errNoServer = errors.New("no corral server is running")

type adminReply struct {
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
}

func adminSocketPath(dataDir string) string { return filepath.Join(dataDir, adminSocketName) }

// adminServer answers user commands on the admin socket.
type adminServer struct {
	l   net.Listener
	db  *store.DB
	gw  sshDisconnector
	log *slog.Logger
	wg  sync.WaitGroup
}

// listenAdmin creates the socket. The caller holds the database lock, so a
// socket file already there was left by a server that died: it is removed.
func listenAdmin(dataDir string, db *store.DB, gw sshDisconnector, log *slog.Logger) (*adminServer, error) {
	path := adminSocketPath(dataDir)
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSocket != 0 {
		_ = os.Remove(path)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return &adminServer{l: l, db: db, gw: gw, log: log.With("component", "admin")}, nil
}

// Serve answers requests until ctx ends, then closes the socket (removing
// its file) and waits for requests in flight.
func (a *adminServer) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { a.l.Close() })
	defer stop()
	defer a.wg.Wait()
	for {
		c, err := a.l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("admin socket: %w", err)
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.handle(ctx, c)
		}()
	}
}

// Close removes the socket; Serve returns.
func (a *adminServer) Close() error { return a.l.Close() }

func (a *adminServer) handle(ctx context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(adminTimeout))
	var req userRequest
	line, err := bufio.NewReader(io.LimitReader(c, maxAdminRequest)).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	var reply adminReply
	if err != nil {
		reply.Error = "malformed request: " + err.Error()
	} else {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), adminTimeout)
		reply.Output, err = doUserCommand(ctx, a.db, a.gw, req)
		cancel()
		if err != nil {
			reply.Error = err.Error()
		}
		a.log.Info("user command", "command", req.Command, "name", req.Name, "ok", err == nil)
	}
	out, _ := json.Marshal(reply)
	_, _ = c.Write(append(out, '\n'))
}

// askServer sends req to the server listening at path. errNoServer means
// there is none (no socket, or one a dead server left behind).
func askServer(ctx context.Context, path string, req userRequest) (string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
		return "", errNoServer
	}
	if err != nil {
		return "", fmt.Errorf("reach the running corral at %s: %w", path, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(adminTimeout))
	line, _ := json.Marshal(req)
	if _, err := c.Write(append(line, '\n')); err != nil {
		return "", fmt.Errorf("reach the running corral: %w", err)
	}
	var reply adminReply
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return "", fmt.Errorf("read the running corral's answer: %w", err)
	}
	if reply.Error != "" {
		return "", errors.New(reply.Error)
	}
	return reply.Output, nil
}
