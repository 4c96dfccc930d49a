package views

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

func statusText(code int) string {
	return strconv.Itoa(code) + " " + http.StatusText(code)
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// gatewayExamples are the ssh command lines shown on the SSH keys page.
func gatewayExamples(m SSHKeysModel) string {
	target := m.Username + "@" + m.Host
	plus := m.Username + "+105@" + m.Host
	p := "ssh -p " + m.GatewayPort + " "
	return p + target + "                  # pick a container from a menu\n" +
		p + plus + "              # straight to CT 105\n" +
		p + target + " 105 -- uptime    # run one command\n" +
		p + target + " ls               # list your containers"
}

// jobLinkText names the link from a container to its creation job.
func jobLinkText(status string) string {
	if status == "error" {
		return "See what failed during creation"
	}
	return "Follow its creation"
}

// visibleText is free text someone typed, fit to show as text: line breaks
// and tabs stay, other control characters become their visible symbols
// (U+2400 block) instead of acting on the page, and bytes that are not
// UTF-8 become U+FFFD. HTML escaping is still templ's.
func visibleText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r < 0x20:
			return 0x2400 + r
		case r == 0x7f:
			return '\u2421'
		case unicode.IsControl(r):
			return unicode.ReplacementChar
		}
		return r
	}, s)
}
