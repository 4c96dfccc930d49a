package gateway

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// writeGuestTable writes the user's containers as aligned columns, numbered
// when numbered is set (the menu). nl is the line ending.
func writeGuestTable(w io.Writer, guests []Guest, numbered bool, nl string) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	if numbered {
		fmt.Fprint(tw, "#\t")
	}
	fmt.Fprint(tw, "VMID\tNAME\tNODE\tSTATUS\n")
	for i, g := range guests {
		if numbered {
			fmt.Fprintf(tw, "%d\t", i+1)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", g.VMID, clean(g.Name), clean(g.Node), clean(g.Status))
	}
	tw.Flush()
	io.WriteString(w, strings.ReplaceAll(b.String(), "\n", nl))
}

// clean drops control characters so names cannot drive the user's terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

var errAborted = errors.New("aborted")

// maxLine caps what the menu prompt accepts.
const maxLine = 64

// readLine reads one line typed at the menu. With a PTY the client's
// terminal is raw, so it echoes, handles backspace, and treats Ctrl-C and
// Ctrl-D as leaving. It returns the bytes read past the line, which belong
// to whatever runs next.
func readLine(r io.Reader, echo io.Writer, pty bool) (line string, rest []byte, err error) {
	var buf [256]byte
	var b []byte
	for {
		n, err := r.Read(buf[:])
		for i := 0; i < n; i++ {
			c := buf[i]
			switch {
			case c == '\r' || c == '\n':
				if pty {
					io.WriteString(echo, "\r\n")
				}
				rest := buf[i+1 : n]
				if len(rest) > 0 && c == '\r' && rest[0] == '\n' {
					rest = rest[1:]
				}
				return string(b), append([]byte(nil), rest...), nil
			case pty && (c == 0x03 || c == 0x04):
				return "", nil, errAborted
			case pty && (c == 0x7f || c == 0x08):
				if len(b) > 0 {
					b = b[:len(b)-1]
					io.WriteString(echo, "\b \b")
				}
			case c >= 0x20 && c < 0x7f && len(b) < maxLine:
				b = append(b, c)
				if pty {
					echo.Write([]byte{c})
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(b) > 0 {
				return string(b), nil, nil
			}
			return "", nil, errAborted
		}
	}
}

// pick resolves a menu answer: a row number, or a VMID or name.
func pick(guests []Guest, answer string) (Guest, error) {
	answer = strings.TrimSpace(answer)
	if n, err := strconv.Atoi(answer); err == nil && n >= 1 && n <= len(guests) && len(answer) <= 2 {
		return guests[n-1], nil
	}
	return resolve(guests, answer)
}
