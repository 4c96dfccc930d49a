package handlers_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"corral/handlers/browsertest"
)

const consoleScreen = `[data-testid="console-screen"]`

// openConsole opens the Console tab of CT vmid on nodeID and waits until
// the terminal is connected.
func openConsole(d *dashBrowser, nodeID string, vmid int) {
	d.b.Run(
		chromedp.Navigate(d.s.URL+"/containers/"+nodeID+"/"+strconv.Itoa(vmid)+"?tab=console"),
		chromedp.WaitVisible(`[data-testid="console"][data-state="open"]`),
	)
}

// typeLine types a line into the terminal and waits until want shows in it.
func typeLine(d *dashBrowser, line, want string) {
	d.b.Run(browsertest.Type(consoleScreen, line+"\r"))
	d.b.WaitTrue(`corralConsole.text().includes(` + strconv.Quote(want) + `)`)
}

// sttyUntil runs `stty size` until want shows. The window change and the
// keys travel separately to the node (as through the SSH gateway), so a
// command typed at once may still see the old size; a person would ask
// again.
func sttyUntil(t *testing.T, d *dashBrowser, want string) {
	t.Helper()
	prompts := `corralConsole.text().split("root@mqtt:~#").length`
	for try := 0; ; try++ {
		if browsertest.Get(d.b, chromedp.Evaluate[bool](`corralConsole.text().includes(`+strconv.Quote(want)+`)`)) {
			return
		}
		if try == 20 {
			t.Fatalf("stty size never showed %q", want)
		}
		n := browsertest.Get(d.b, chromedp.Evaluate[int](prompts))
		d.b.Run(browsertest.Type(consoleScreen, "stty size\r"))
		d.b.WaitTrue(prompts + " > " + strconv.Itoa(n))
	}
}

// consoleSize is the terminal's columns and rows as xterm.js has them.
func consoleSize(d *dashBrowser) (int, int) {
	s := browsertest.Get(d.b, chromedp.Evaluate[[]int](`corralConsole.size()`))
	return s[0], s[1]
}

// TestBrowserConsole types a command into a running container's console
// and reads its output from the terminal, sees `stty size` follow the
// window, ends the shell with a status, and reconnects.
func TestBrowserConsole(t *testing.T) {
	d := startDashBrowser(t, withConsole(nil, nil))
	openConsole(d, d.pve1.ID, 101)
	typeLine(d, "echo hello-$((6*7))", "hello-42")

	cols, rows := consoleSize(d)
	typeLine(d, "stty size", fmt.Sprintf("\n%d %d\n", rows, cols))
	d.b.SetViewport(700, 600)
	d.b.WaitTrue(fmt.Sprintf(`corralConsole.size()[0] !== %d && corralConsole.size()[1] !== %d`, cols, rows))
	cols2, rows2 := consoleSize(d)
	sttyUntil(t, d, fmt.Sprintf("\n%d %d\n", rows2, cols2))

	// UTF-8 both ways, and colours reach the terminal as escapes it
	// interprets (not as text).
	typeLine(d, `printf 'caf\303\251 \033[31mred\033[0m\n'`, "café red")
	if fg := browsertest.Get(d.b, chromedp.Evaluate[int](`(function () {
		var buf = window.corralConsole && document.querySelector("[data-console]").__console.term.buffer.active;
		for (var y = buf.length - 1; y >= 0; y--) {
			var line = buf.getLine(y), s = line.translateToString(true), i = s.indexOf("café red");
			if (i >= 0) return line.getCell(i + 5).getFgColor();
		}
		return -1;
	})()`)); fg != 1 {
		t.Errorf("colour of \"red\": palette %d, want 1", fg)
	}

	// Paste with Ctrl-Shift-V; copy a selection with Ctrl-Shift-C.
	d.b.Grant(d.s.URL, "clipboard-read", "clipboard-write")
	browsertest.Get(d.b, chromedp.Evaluate[bool](`navigator.clipboard.writeText("echo pasted-$((3*3))").then(() => true)`, chromedp.EvalAwaitPromise))
	d.b.Run(browsertest.Press(consoleScreen, 'v', kb.ModifierCtrl|kb.ModifierShift))
	d.b.WaitTrue(`corralConsole.text().includes("echo pasted-$((3*3))")`)
	typeLine(d, "", "pasted-9")
	// A selection as a drag over the line would make it.
	browsertest.Get(d.b, chromedp.Evaluate[bool](`(function () {
		var term = document.querySelector("[data-console]").__console.term, buf = term.buffer.active;
		for (var y = buf.length - 1; y >= 0; y--) {
			var s = buf.getLine(y).translateToString(true);
			if (s === "pasted-9") { term.select(0, y, s.length); return true; }
		}
		return false;
	})()`))
	d.b.Run(browsertest.Press(consoleScreen, 'c', kb.ModifierCtrl|kb.ModifierShift))
	// The copy lands in the clipboard a moment later: each poll reads it
	// and looks at what the previous one read.
	d.b.WaitTrue(`(navigator.clipboard.readText().then(function (t) { window.__copied = t; }), window.__copied === "pasted-9")`)

	// Ctrl-C reaches the running command.
	d.b.Run(browsertest.Type(consoleScreen, "sleep 100\r"))
	d.b.WaitTrue(`corralConsole.text().includes("sleep 100")`)
	d.b.Run(browsertest.Type(consoleScreen, "\x03"))
	typeLine(d, "echo status-$?", "status-130")

	d.b.Run(browsertest.Type(consoleScreen, "exit 3\r"))
	d.b.WaitTrue(`document.querySelector('[data-testid="console"]').dataset.state === "closed"`)
	if got := browsertest.Get(d.b, chromedp.Text(`[data-testid="console-status"]`)); got != "The shell ended with exit status 3." {
		t.Errorf("status line %q", got)
	}
	d.b.Screenshot("ended")
	d.b.Run(
		browsertest.Click(`[data-testid="console-reconnect"]`),
		chromedp.WaitVisible(`[data-testid="console"][data-state="open"]`),
	)
	typeLine(d, "echo again-$((2*3))", "again-6")
	d.noCSPViolations(t)
}

// TestBrowserConsoleClosedTabEndsShell closes the tab while the shell
// runs: the session on the Proxmox host ends too.
func TestBrowserConsoleClosedTabEndsShell(t *testing.T) {
	d := startDashBrowser(t, withConsole(nil, nil))
	node := d.sim.Node("pve1")
	openConsole(d, d.pve1.ID, 101)
	typeLine(d, "echo up-$((1+1))", "up-2")
	// The deadline only guards against a hang.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := node.WaitSessions(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// Close the tab as a person would; Page.close answers before the tab is gone.
	d.b.Run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.Close, cdp.Empty{})
		return err
	}))
	if err := node.WaitSessions(ctx, 0); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserConsoleStoppedOnPhone opens the console of a stopped
// container on a phone-sized screen: a message and a Start button instead
// of a terminal; after Start the terminal opens and runs a command.
func TestBrowserConsoleStoppedOnPhone(t *testing.T) {
	d := startDashBrowser(t, withConsole(nil, nil))
	d.b.SetViewport(390, 844)
	d.b.Run(
		chromedp.Navigate(d.s.URL+"/containers/"+d.pve2.ID+"/102?tab=console"),
		chromedp.WaitVisible(`[data-testid="console-stopped"]`),
	)
	if got := browsertest.Get(d.b, chromedp.Text(`[data-testid="console-stopped"]`)); got != "CT 102 is stopped. Start it to open its console." {
		t.Errorf("stopped message %q", got)
	}
	if n := browsertest.Get(d.b, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="console"]').length`)); n != 0 {
		t.Error("a terminal is shown for a stopped container")
	}
	d.b.Run(
		browsertest.Click(`[data-testid="console-start"]`),
		chromedp.WaitVisible(`[data-testid="console"][data-state="open"]`),
	)
	typeLine(d, "echo phone-$((6*7))", "phone-42")
	d.b.Screenshot("phone")
	if got := browsertest.Get(d.b, chromedp.Evaluate[[]string](overflowing)); len(got) > 0 {
		t.Errorf("wider than the phone: %q", got)
	}
	if cols, _ := consoleSize(d); cols < 30 || cols > 60 {
		t.Errorf("terminal is %d columns wide on a phone", cols)
	}
	d.noCSPViolations(t)
}
