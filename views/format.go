package views

import (
	"net/http"
	"strconv"
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
