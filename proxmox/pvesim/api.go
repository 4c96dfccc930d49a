package pvesim

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// request is one authenticated API call being served by node n.
type request struct {
	n    *Node
	r    *http.Request
	tok  *token
	p    params
	vars map[string]string
}

// handlerFunc answers a request with the value of "data", or an error.
type handlerFunc func(*request) (any, error)

// route is one endpoint: method, path pattern with {vars}, and the schema of
// its non-path parameters.
type route struct {
	method  string
	pattern string
	schema  schema
	h       handlerFunc
}

// pathVarProps are the schema entries of path variables.
var pathVarProps = map[string]prop{
	"node":     {kind: kNode, required: true},
	"vmid":     {kind: kVMID, required: true},
	"upid":     {kind: kString, required: true},
	"storage":  {kind: kStorageID, required: true},
	"snapname": snapNameProp,
}

// ServeHTTP is the node's pveproxy: faults, authentication, cluster
// proxying, parameter checks and the endpoint itself, in that order.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	apiPath, ok := strings.CutPrefix(r.URL.Path, "/api2/json")
	if !ok || apiPath == "" {
		writeError(w, errStatus(http.StatusNotImplemented, "Method '%s %s' not implemented", r.Method, r.URL.Path))
		return
	}
	if !n.applyFault(w, r, apiPath) {
		return
	}
	tok, aerr := n.authenticate(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	segs := strings.Split(strings.Trim(apiPath, "/"), "/")
	if len(segs) >= 2 && segs[0] == "nodes" && segs[1] != n.name {
		n.proxy(w, r, segs[1])
		return
	}
	data, err := n.dispatch(r, tok, apiPath, segs)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = errStatus(http.StatusInternalServerError, "%s", err.Error())
		}
		writeError(w, ae)
		return
	}
	writeData(w, r, data)
}

func (n *Node) dispatch(r *http.Request, tok *token, apiPath string, segs []string) (any, error) {
	for _, rt := range n.sim.routes() {
		vars, ok := matchPattern(rt.pattern, segs)
		if !ok || rt.method != r.Method {
			continue
		}
		n.sim.requests.add(n.name, rt.method, rt.pattern)
		p, aerr := readParams(r)
		if aerr != nil {
			return nil, aerr
		}
		sch := schema{}
		for k, v := range rt.schema {
			sch[k] = v
		}
		for k, v := range vars {
			if old, dup := p[k]; dup && old != v {
				return nil, errStatus(http.StatusBadRequest, "duplicate parameter (already defined in URI) with conflicting values!")
			}
			p[k] = v
			sch[k] = pathVarProps[k]
		}
		if aerr := sch.check(p); aerr != nil {
			return nil, aerr
		}
		out, err := rt.h(&request{n: n, r: r, tok: tok, p: p, vars: vars})
		if err == nil && r.Method != http.MethodGet {
			// A synchronous change (a config edit) is saved at once; tasks
			// save again when they end.
			n.sim.changed()
		}
		return out, err
	}
	// PVE answers 501 for unknown paths and unknown methods alike.
	return nil, errStatus(http.StatusNotImplemented, "Method '%s %s' not implemented", r.Method, apiPath)
}

// matchPattern matches "/nodes/{node}/lxc" against path segments.
func matchPattern(pattern string, segs []string) (map[string]string, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	if len(ps) != len(segs) {
		return nil, false
	}
	vars := map[string]string{}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			vars[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return vars, true
}

// applyFault applies an injected fault; it reports whether to carry on.
func (n *Node) applyFault(w http.ResponseWriter, r *http.Request, apiPath string) bool {
	f, ok := n.faults.match(r.Method, apiPath)
	if !ok {
		return true
	}
	switch f.Kind {
	case FaultLatency:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			// The client gave up: drop the connection. Returning would
			// let net/http answer an empty 200, which a client whose
			// deadline just passed could still read as the answer.
			panic(http.ErrAbortHandler)
		}
	case FaultStatus:
		writeError(w, errStatus(f.Status, "%s", f.Message))
	case FaultHang:
		// Take the connection away from net/http so nothing (not even an
		// implicit empty 200 when this handler returns) is ever written,
		// and hold it until the client hangs up or the simulator stops.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				stop := make(chan struct{})
				go func() {
					select {
					case <-n.sim.ctx.Done():
						conn.Close()
					case <-stop:
					}
				}()
				_, _ = io.Copy(io.Discard, conn)
				close(stop)
				conn.Close()
				return false
			}
		}
		select {
		case <-r.Context().Done():
		case <-n.sim.ctx.Done():
		}
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
	}
	return false
}

// authenticate checks the PVEAPIToken header like PVE's auth_handler.
func (n *Node) authenticate(r *http.Request) (*token, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errStatus(http.StatusUnauthorized, "No ticket")
	}
	id, secret, ok := parseTokenHeader(h)
	var tok *token
	if ok {
		n.estate.mu.Lock()
		tok = n.estate.tokens[id]
		n.estate.mu.Unlock()
	}
	if tok == nil || subtle.ConstantTimeCompare([]byte(tok.spec.Secret), []byte(secret)) != 1 {
		// PVE hides which part was wrong and slows guessing down.
		t := time.NewTimer(n.sim.opts.AuthFailDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		return nil, errStatus(http.StatusUnauthorized, "Authentication failed!")
	}
	return tok, nil
}

// proxy forwards a request for another node of the cluster to that node, as
// pveproxy does for every path with a proxyto node.
func (n *Node) proxy(w http.ResponseWriter, r *http.Request, target string) {
	if !nodeNameRe.MatchString(target) {
		writeError(w, errParam(map[string]string{"node": "invalid format - value does not look like a valid node name\n"}))
		return
	}
	t := n.estate.node(target)
	if t == nil {
		writeError(w, errStatus(http.StatusInternalServerError,
			"hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known", target, target))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, "https://"+t.Addr()+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, "%s", err.Error()))
		return
	}
	for _, k := range []string{"Authorization", "Content-Type", "Accept-Encoding"} {
		if v := r.Header.Get(k); v != "" {
			out.Header.Set(k, v)
		}
	}
	resp, err := n.sim.proxyClient.Do(out)
	if err != nil {
		if r.Context().Err() == nil {
			writeError(w, errStatus(595, "Connection refused"))
		}
		return
	}
	defer resp.Body.Close()
	rbody, err := io.ReadAll(resp.Body)
	if err != nil {
		writeError(w, errStatus(596, "Connection timed out"))
		return
	}
	if resp.StatusCode >= 400 {
		reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, resp.Status[:3]))
		writeRaw(w, resp.StatusCode, reason, rbody)
		return
	}
	for _, k := range []string{"Server", "Content-Type", "Content-Encoding", "Cache-Control", "Pragma", "Expires"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(rbody)
}
