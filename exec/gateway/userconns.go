package gateway

import (
	"context"
	"net"
	"sync"
)

// userConns tracks each user's signed-in connections, so that disabling
// or deleting an account can cut them (see Server.DisconnectUser).
type userConns struct {
	mu    sync.Mutex
	conns map[string]map[net.Conn]struct{}
}

func newUserConns() *userConns {
	return &userConns{conns: map[string]map[net.Conn]struct{}{}}
}

// add tracks c for userID until ctx (the connection's) ends.
func (u *userConns) add(ctx context.Context, userID string, c net.Conn) {
	u.mu.Lock()
	set := u.conns[userID]
	if set == nil {
		set = map[net.Conn]struct{}{}
		u.conns[userID] = set
	}
	set[c] = struct{}{}
	u.mu.Unlock()
	context.AfterFunc(ctx, func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		delete(u.conns[userID], c)
		if len(u.conns[userID]) == 0 {
			delete(u.conns, userID)
		}
	})
}

// closeAll closes every tracked connection of userID and returns how many.
func (u *userConns) closeAll(userID string) int {
	u.mu.Lock()
	list := make([]net.Conn, 0, len(u.conns[userID]))
	for c := range u.conns[userID] {
		list = append(list, c)
	}
	delete(u.conns, userID)
	u.mu.Unlock()
	for _, c := range list {
		c.Close()
	}
	return len(list)
}
