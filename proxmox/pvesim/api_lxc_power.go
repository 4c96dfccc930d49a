package pvesim

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"
)

// setRunning starts or stops a guest's simulated processes; the caller holds estate.mu.
func (s *Sim) setRunning(g *guest, running bool) {
	if running {
		g.status = "running"
		g.startedAt = s.now()
		g.runCtx, g.runCancel = context.WithCancel(s.ctx)
		return
	}
	g.status = "stopped"
	g.startedAt = time.Time{}
	if g.runCancel != nil {
		g.runCancel()
		g.runCancel = nil
	}
}

// IgnoreShutdown makes container vmid ignore (or again honour) clean
// shutdown requests, so shutdown tasks time out like with a stuck guest.
func (n *Node) IgnoreShutdown(vmid int, ignore bool) {
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	if g := n.estate.guests[vmid]; g != nil {
		g.ignoreShutdown = ignore
	}
}

// checkStartable is the task-time check of start: config, lock, template.
func (n *Node) checkStartable(vmid int) (*guest, error) {
	g := n.estate.guests[vmid]
	if g == nil || g.node != n.name || g.typ != LXC {
		return nil, fmt.Errorf("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", n.name, vmid)
	}
	if g.lock() != "" {
		return nil, fmt.Errorf("CT is locked (%s)", g.lock())
	}
	if g.isTemplate() {
		return nil, fmt.Errorf("you can't start a CT if it's a template")
	}
	return g, nil
}

func postLXCStart(rq *request) (any, error) {
	if err := rq.needVM("VM.PowerMgmt"); err != nil {
		return nil, err
	}
	vmid := rq.vmid()
	e := rq.n.estate
	e.mu.Lock()
	if g := e.guests[vmid]; g != nil && g.node == rq.n.name && g.typ == LXC && g.status == "running" {
		e.mu.Unlock()
		return nil, errStatus(http.StatusInternalServerError, "CT %d already running", vmid)
	}
	e.mu.Unlock()
	return rq.n.startTask(rq.tok, "vzstart", vmidString(vmid), 2, rq.n.startWork(vmid)), nil
}

// startWork is the vzstart worker.
func (n *Node) startWork(vmid int) func(tl *taskLog) error {
	return func(tl *taskLog) error {
		if !tl.Wait() {
			return errClosed
		}
		e := n.estate
		e.mu.Lock()
		defer e.mu.Unlock()
		g, err := n.checkStartable(vmid)
		if err != nil {
			return err
		}
		if g.status == "running" {
			return nil
		}
		// vm_start applies what waited for a restart first.
		n.applyPending(g)
		if missing := n.missingBindSource(g); missing != "" {
			// lxc's pre-start hook fails to mount it; the reason goes to the lxc log.
			e.mu.Unlock()
			defer e.mu.Lock()
			for _, l := range []string{"run_buffer: 571 Script exited with status 2",
				fmt.Sprintf("lxc_init: 845 Failed to run lxc.hook.pre-start for container \"%d\"", vmid),
				fmt.Sprintf("__lxc_start: 2034 Failed to initialize container \"%d\"", vmid)} {
				tl.Log("%s", l)
			}
			return fmt.Errorf("startup for container '%d' failed", vmid)
		}
		n.sim.setRunning(g, true)
		return nil
	}
}

// missingBindSource is the first bind mount whose host directory is
// missing, "" when all are there; the caller holds estate.mu.
func (n *Node) missingBindSource(g *guest) string {
	for _, k := range volumeKeys(g.conf) {
		if mp := parseMountPoint(k, g.conf[k]); mp.kind == "bind" && !n.hostDirExists(mp.volume) {
			return mp.volume
		}
	}
	return ""
}

// runningCT returns the container if it runs on this node, else PVE's "not running" error.
func (rq *request) runningCT(word string) (*guest, error) {
	g := rq.n.estate.guests[rq.vmid()]
	if g == nil || g.node != rq.n.name || g.typ != LXC || g.status != "running" {
		return nil, errStatus(http.StatusInternalServerError, "%s %d not running", word, rq.vmid())
	}
	return g, nil
}

func postLXCStop(rq *request) (any, error) {
	return rq.powerOff("vzstop", "CT", func(tl *taskLog, g *guest) error {
		rq.n.sim.setRunning(g, false)
		return nil
	})
}

func postLXCShutdown(rq *request) (any, error) {
	timeout := time.Duration(rq.p.intParam("timeout", 60)) * time.Second
	force := rq.p.boolParam("forceStop")
	return rq.powerOff("vzshutdown", "CT", func(tl *taskLog, g *guest) error {
		if g.ignoreShutdown {
			// The guest never reacts: PVE waits the whole timeout.
			e := rq.n.estate
			e.mu.Unlock()
			ok := rq.n.sim.sleep(min(timeout, rq.n.sim.opts.TaskDuration+timeout/100))
			e.mu.Lock()
			if !ok {
				return errClosed
			}
			if !force {
				return fmt.Errorf("container did not stop")
			}
		}
		rq.n.sim.setRunning(g, false)
		return nil
	})
}

func postLXCReboot(rq *request) (any, error) {
	return rq.powerOff("vzreboot", "VM", func(tl *taskLog, g *guest) error {
		rq.n.sim.setRunning(g, false)
		rq.n.sim.setRunning(g, true)
		return nil
	})
}

// powerOff validates a stop-like request and starts its task; change runs
// with estate.mu held, after the task's time has passed.
func (rq *request) powerOff(typ, word string, change func(*taskLog, *guest) error) (any, error) {
	if err := rq.needVM("VM.PowerMgmt"); err != nil {
		return nil, err
	}
	vmid := rq.vmid()
	e := rq.n.estate
	e.mu.Lock()
	_, err := rq.runningCT(word)
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return rq.n.startTask(rq.tok, typ, vmidString(vmid), 2, func(tl *taskLog) error {
		if !tl.Wait() {
			return errClosed
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		g := e.guests[vmid]
		if g == nil || g.node != rq.n.name {
			return fmt.Errorf("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", rq.n.name, vmid)
		}
		if g.lock() != "" {
			return fmt.Errorf("CT is locked (%s)", g.lock())
		}
		if g.status != "running" {
			return nil
		}
		return change(tl, g)
	}), nil
}

func deleteLXC(rq *request) (any, error) {
	if err := rq.needVM("VM.Allocate"); err != nil {
		return nil, err
	}
	vmid := rq.vmid()
	force := rq.p.boolParam("force")
	purge := rq.p.boolParam("purge")
	e := rq.n.estate
	g, err := rq.lockForDestroy(force)
	if err != nil {
		return nil, err
	}
	n := rq.n
	return n.startTask(rq.tok, "vzdestroy", vmidString(vmid), 3, func(tl *taskLog) error {
		e.mu.Lock()
		running := g.status == "running"
		e.mu.Unlock()
		if running {
			tl.Warn("container %d is running - stopping it first", vmid)
			e.mu.Lock()
			n.sim.setRunning(g, false)
			e.mu.Unlock()
		}
		e.mu.Lock()
		vols := n.diskNames(g.vmid)
		e.mu.Unlock()
		for _, vol := range vols {
			if !tl.Log("  Logical volume \"%s\" successfully removed.", vol) {
				return errClosed
			}
		}
		if purge && !tl.Log("purging CT %d from related configurations..", vmid) {
			return errClosed
		}
		e.mu.Lock()
		delete(e.guests, vmid)
		n.freeDisks(vmid)
		e.mu.Unlock()
		if g.dir != "" {
			_ = os.RemoveAll(g.dir)
		}
		n.removeSnapshotData(vmid)
		return nil
	}), nil
}

// lockForDestroy runs delete's synchronous checks and sets lock "destroyed".
func (rq *request) lockForDestroy(force bool) (*guest, error) {
	vmid := rq.vmid()
	rq.n.estate.mu.Lock()
	defer rq.n.estate.mu.Unlock()
	g, err := rq.localCT()
	if err != nil {
		return nil, err
	}
	switch {
	case g.protected():
		return nil, errStatus(http.StatusInternalServerError, "can't remove CT %d - protection mode enabled", vmid)
	case g.lock() != "":
		return nil, errStatus(http.StatusInternalServerError, "CT is locked (%s)", g.lock())
	case g.status == "running" && !force:
		return nil, errStatus(http.StatusInternalServerError, "unable to destroy CT %d - container is running", vmid)
	}
	g.setLock("destroyed")
	return g, nil
}
