package guest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// Control characters of the emulated line discipline.
const (
	keyCtrlC     = 0x03
	keyCtrlD     = 0x04
	keyBackspace = 0x08
	keyCtrlU     = 0x15
	keyEscape    = 0x1b
	keyDelete    = 0x7f
)

// interactive runs a login shell. With a tty it is also the terminal's
// line discipline (the client is in raw mode): it echoes, edits the line,
// and turns Ctrl-C and Ctrl-D into an interrupt and end of input.
func (s *session) interactive(ctx context.Context, stdio Stdio, tty *Tty, env []string) (int, error) {
	var out, errw io.Writer = newLockedWriter(stdio.Stdout), newLockedWriter(stdio.Stderr)
	if tty != nil {
		out = crlfWriter{out}
		errw = out
	}
	sh := &shell{s: s, ctx: ctx, out: out, errw: errw, tty: tty != nil}
	r, err := s.newRunner("/root", env, nil, out, errw, nil)
	if err != nil {
		return 255, err
	}
	sh.r = r
	input := make(chan []byte)
	go readChunks(ctx, stdio.Stdin, input)
	if tty == nil {
		return sh.loopLines(input)
	}
	return sh.loopTty(input)
}

// readChunks forwards stdin to ch until EOF, then closes ch.
func readChunks(ctx context.Context, in io.Reader, ch chan<- []byte) {
	defer close(ch)
	if in == nil {
		return
	}
	buf := make([]byte, 4096)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			select {
			case ch <- append([]byte(nil), buf[:n]...):
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			return
		}
	}
}

type shell struct {
	s    *session
	ctx  context.Context
	r    *interp.Runner
	out  io.Writer
	errw io.Writer
	tty  bool
	last int
	src  string // pending input of an incomplete command
}

func (sh *shell) prompt() {
	if !sh.tty {
		return
	}
	if sh.src != "" {
		fmt.Fprint(sh.out, "> ")
		return
	}
	dir := sh.r.Dir
	if dir == "/root" || strings.HasPrefix(dir, "/root/") {
		dir = "~" + strings.TrimPrefix(dir, "/root")
	}
	fmt.Fprintf(sh.out, "root@%s:%s# ", sh.s.g.hostname, dir)
}

// loopLines reads commands line by line without prompt or echo.
func (sh *shell) loopLines(input <-chan []byte) (int, error) {
	pr, pw := io.Pipe()
	go func() {
		for b := range input {
			if _, err := pw.Write(b); err != nil {
				return
			}
		}
		pw.Close()
	}()
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if done, code, _, err := sh.line(sc.Text(), nil); done || err != nil {
			return code, err
		}
		if sh.ctx.Err() != nil {
			return exitCode(sh.ctx, 0, nil)
		}
	}
	return exitCode(sh.ctx, sh.last, nil)
}

// loopTty is the line discipline: it edits the line being typed and hands
// complete lines to the interpreter.
func (sh *shell) loopTty(input <-chan []byte) (int, error) {
	var line []byte
	escape := 0 // bytes of an escape sequence still to skip
	// queue holds input to handle before reading more: type-ahead a command
	// left unread (already echoed when typed, so quiet) and the rest of a
	// chunk that followed an Enter.
	type pending struct {
		b     []byte
		quiet bool
	}
	var queue []pending
	sh.prompt()
	for {
		var chunk []byte
		quiet := false
		if len(queue) > 0 {
			chunk, quiet = queue[0].b, queue[0].quiet
			queue = queue[1:]
		} else {
			var ok bool
			select {
			case <-sh.ctx.Done():
				return exitCode(sh.ctx, 0, nil)
			case chunk, ok = <-input:
				if !ok {
					return sh.last, nil
				}
			}
		}
		echo := func(b string) {
			if !quiet {
				fmt.Fprint(sh.out, b)
			}
		}
	chunkLoop:
		for i := 0; i < len(chunk); i++ {
			c := chunk[i]
			switch {
			case escape > 0:
				escape--
				if escape == 0 && c >= '0' && c <= '9' {
					escape = 1 // e.g. ESC [ 3 ~
				}
				continue
			case c == keyEscape:
				escape = 2
			case c == keyCtrlC:
				fmt.Fprint(sh.out, "^C\n")
				line, sh.src = nil, ""
				sh.setStatus(130)
				sh.prompt()
			case c == keyCtrlD:
				if len(line) == 0 && sh.src == "" {
					fmt.Fprint(sh.out, "logout\n")
					return sh.last, nil
				}
			case c == keyDelete || c == keyBackspace:
				if len(line) > 0 {
					_, size := utf8.DecodeLastRune(line)
					line = line[:len(line)-size]
					echo("\b \b")
				}
			case c == keyCtrlU:
				echo(strings.Repeat("\b \b", utf8.RuneCount(line)))
				line = nil
			case c == '\r' || c == '\n':
				if c == '\r' && i+1 < len(chunk) && chunk[i+1] == '\n' {
					i++
				}
				echo("\n")
				text := string(line)
				line = nil
				done, code, left, err := sh.line(text, input)
				if done || err != nil {
					return code, err
				}
				sh.prompt()
				// What the command did not read comes first, then the
				// rest of this chunk, as a terminal's input queue would.
				var next []pending
				if len(left) > 0 {
					next = append(next, pending{left, true})
				}
				if rest := chunk[i+1:]; len(rest) > 0 {
					next = append(next, pending{append([]byte(nil), rest...), quiet})
				}
				queue = append(next, queue...)
				break chunkLoop
			case c < 0x20 && c != '\t':
				// Other control characters are ignored.
			default:
				line = append(line, c)
				echo(string(c))
			}
		}
	}
}

// line runs one input line, or keeps it when the command is incomplete.
// While a command runs on a tty, further input is its stdin and Ctrl-C
// interrupts it.
// left is type-ahead the command did not read, for the shell to handle next.
func (sh *shell) line(text string, input <-chan []byte) (done bool, code int, left []byte, err error) {
	src := sh.src + text + "\n"
	file, perr := syntax.NewParser().Parse(strings.NewReader(src), "bash")
	if perr != nil {
		if syntax.IsIncomplete(perr) {
			sh.src = src
			return false, 0, left, nil
		}
		sh.src = ""
		fmt.Fprintf(sh.out, "bash: %v\n", perr)
		sh.last = 2
		return false, 0, left, nil
	}
	sh.src = ""
	if len(file.Stmts) == 0 {
		return false, 0, left, nil
	}
	cmdCtx, cancel := context.WithCancelCause(sh.ctx)
	defer cancel(nil)
	stdin, stopInput, err := sh.commandInput(cmdCtx, cancel, input)
	if err != nil {
		return true, 255, nil, err
	}
	interp.StdIO(stdin, sh.out, sh.errw)(sh.r)
	var runErr error
	for _, st := range file.Stmts {
		runErr = sh.r.Run(cmdCtx, st)
		if sh.r.Exited() || cmdCtx.Err() != nil {
			break
		}
	}
	left = stopInput()
	if sh.ctx.Err() != nil {
		c, _ := exitCode(sh.ctx, 0, nil)
		return true, c, left, nil
	}
	if cmdCtx.Err() != nil {
		fmt.Fprintln(sh.out)
		sh.setStatus(130)
		return false, 0, left, nil
	}
	c, err := runResult(cmdCtx, runErr)
	sh.last = c
	if err != nil {
		fmt.Fprintf(sh.out, "bash: %v\n", err)
	}
	if sh.r.Exited() {
		return true, c, left, nil
	}
	return false, 0, left, nil
}

// commandInput gives a command run from a tty its stdin: typed bytes are
// echoed and passed on, Ctrl-C cancels the command and Ctrl-D ends its
// input. Without a tty commands get no input.
//
// The returned stop function ends the input and gives back what was typed
// but not read by the command (whole lines still in the pipe and a line not
// yet ended), which a terminal would leave for the shell.
func (sh *shell) commandInput(ctx context.Context, cancel context.CancelCauseFunc, input <-chan []byte) (*os.File, func() []byte, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("guest: stdin pipe: %w", err)
	}
	if input == nil {
		pw.Close()
		return pr, func() []byte { pr.Close(); return nil }, nil
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	var line []byte // the line being typed; read only after finished
	go func() {
		defer close(finished)
		defer pw.Close()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case chunk, ok := <-input:
				if !ok {
					return
				}
				// Canonical mode: the command sees a line once Enter is
				// pressed; Ctrl-D sends what is pending, or EOF.
				for _, c := range chunk {
					switch c {
					case keyCtrlC:
						fmt.Fprint(sh.out, "^C")
						cancel(ErrInterrupt)
						return
					case keyCtrlD:
						if len(line) == 0 {
							pw.Close()
						}
						pw.Write(line)
						line = nil
					case '\r', '\n':
						fmt.Fprint(sh.out, "\n")
						pw.Write(append(line, '\n'))
						line = nil
					case keyDelete, keyBackspace:
						if len(line) > 0 {
							line = line[:len(line)-1]
							fmt.Fprint(sh.out, "\b \b")
						}
					default:
						sh.out.Write([]byte{c})
						line = append(line, c)
					}
				}
			}
		}
	}()
	return pr, func() []byte {
		close(stop)
		<-finished
		// The writer is closed: whatever the command left in the pipe
		// reads out now, then EOF.
		left, _ := io.ReadAll(pr)
		pr.Close()
		return append(left, line...)
	}, nil
}

// setStatus makes $? report code, as after an interrupted command.
func (sh *shell) setStatus(code int) {
	sh.last = code
	file, err := syntax.NewParser().Parse(strings.NewReader(fmt.Sprintf("(exit %d)", code)), "")
	if err == nil {
		sh.r.Run(sh.ctx, file.Stmts[0])
	}
}
