package pvesim

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Format checks of PVE's JSON schema (pve-common JSONSchema.pm and the
// formats pve-container registers). Each returns the text PVE puts after
// "invalid format - ", or "" when the value is fine.

var configIDRe = regexp.MustCompile(`(?i)^[a-z][a-z0-9_-]+$`)

// splitList splits like PVE::Tools::split_list: on commas, semicolons,
// white space and NULs.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == 0
	})
}

// formatConfigID is pve-configid (snapshot names, config keys).
func formatConfigID(v string) string {
	if !configIDRe.MatchString(v) {
		return fmt.Sprintf("invalid configuration ID '%s'\n", v)
	}
	return ""
}

// formatConfigIDList is pve-configid-list (delete, revert).
func formatConfigIDList(v string) string {
	for _, id := range splitList(v) {
		if msg := formatConfigID(id); msg != "" {
			return msg
		}
	}
	return ""
}

// formatStartup is pve-startup-order: "[order=]N,up=N,down=N".
func formatStartup(v string) string {
	for _, part := range strings.Split(v, ",") {
		k, val, hasKey := strings.Cut(strings.TrimSpace(part), "=")
		if !hasKey {
			k, val = "order", k
		}
		if _, ok := parseInt(val); !ok || strings.HasPrefix(val, "-") || strings.HasPrefix(val, "+") ||
			(k != "order" && k != "up" && k != "down") {
			return "unable to parse startup options\n"
		}
	}
	return ""
}

// formatDNSList is dns-name-list (searchdomain).
func formatDNSList(v string) string {
	for _, d := range splitList(v) {
		if !dnsRe.MatchString(d) {
			return "value does not look like a valid DNS name\n"
		}
	}
	return ""
}

// formatIPList is lxc-ip-with-ll-iface-list (nameserver): addresses, a
// link-local one optionally with %iface.
func formatIPList(v string) string {
	for _, a := range splitList(v) {
		if ip, iface, ok := strings.Cut(a, "%"); ok && strings.HasPrefix(ip, "fe80:") && iface != "" {
			a = ip
		}
		if _, err := netip.ParseAddr(a); err != nil {
			return "value does not look like a valid IP address\n"
		}
	}
	return ""
}

// formatTagList is pve-tag-list.
func formatTagList(v string) string {
	for _, t := range splitList(v) {
		if !tagRe.MatchString(t) {
			return "invalid characters in tag\n"
		}
	}
	return ""
}

// formatPropString checks a property string against its format.
func formatPropString(param, defaultKey string, format map[string]propKey) func(string) string {
	return func(v string) string {
		if _, problems := parsePropString(param, v, defaultKey, format); len(problems) > 0 {
			return "format error\n" + strings.Join(problems, "\n")
		}
		return ""
	}
}

// mpPathProblem is pve-lxc-mp-string: no "/./", "/../", trailing "/." or
// "/..", or leading "../".
func mpPathProblem(v string) string {
	if strings.Contains(v, "/./") || strings.Contains(v, "/../") || strings.HasSuffix(v, "/.") ||
		strings.HasSuffix(v, "/..") || strings.HasPrefix(v, "../") {
		return v + " contains illegal character sequences"
	}
	return ""
}
