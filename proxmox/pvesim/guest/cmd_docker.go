package guest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The docker CLI stand-in (installed by docker-ce-cli or docker.io): it
// reports versions, plugins and an empty engine, and cannot pull images
// (there is no network). Subcommands it does not model succeed silently
// while the daemon runs, as every stand-in does.

const dockerNoDaemon = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"

// dockerPluginDirs are where the docker CLI looks for plugins, in order.
func dockerPluginDirs() []string {
	return []string{"/root/.docker/cli-plugins", "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
		"/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"}
}

// dockerPlugin is an installed CLI plugin.
type dockerPlugin struct{ name, version, path string }

// dockerEngine is what the CLI learns about the installation.
type dockerEngine struct {
	client, server string // upstream versions; server "" when not installed
	running        bool
	logDriver      string
	plugins        []dockerPlugin
}

func (p *proc) dockerEngine() dockerEngine {
	var e dockerEngine
	p.s.g.view(func(st *state) {
		for _, pkg := range []string{"docker-ce-cli", "docker.io"} {
			if v := st.Versions["apt:"+pkg]; v != "" && e.client == "" {
				e.client = upstreamVersion(v)
			}
		}
		for _, pkg := range []string{"docker-ce", "docker.io"} {
			if v := st.Versions["apt:"+pkg]; v != "" && e.server == "" {
				e.server = upstreamVersion(v)
			}
		}
		if u, ok := st.Units["docker.service"]; ok && u.Active == "active" {
			e.running = true
		}
		for _, name := range []string{"buildx", "compose"} {
			for _, dir := range dockerPluginDirs() {
				path := dir + "/docker-" + name
				b, err := p.s.fs.ReadFile(path)
				if err != nil {
					continue
				}
				version := "unknown"
				if pkg := stubPackage(b); pkg != "" && st.Versions["apt:"+pkg] != "" {
					version = "v" + upstreamVersion(st.Versions["apt:"+pkg])
				}
				e.plugins = append(e.plugins, dockerPlugin{name, version, path})
				break
			}
		}
	})
	e.logDriver = "json-file"
	if b, err := p.s.fs.ReadFile("/etc/docker/daemon.json"); err == nil {
		var conf struct {
			LogDriver string `json:"log-driver"`
		}
		if json.Unmarshal(b, &conf) == nil && conf.LogDriver != "" {
			e.logDriver = conf.LogDriver
		}
	}
	return e
}

func (e dockerEngine) plugin(name string) (dockerPlugin, bool) {
	for _, pl := range e.plugins {
		if pl.name == name {
			return pl, true
		}
	}
	return dockerPlugin{}, false
}

// dockerInfo holds the fields of `docker info` that --format may name,
// with Docker's names.
type dockerInfo struct {
	ServerVersion, Driver, LoggingDriver, CgroupDriver, CgroupVersion  string
	KernelVersion, OperatingSystem, OSType, Architecture, Name         string
	DockerRootDir                                                      string
	Containers, ContainersRunning, ContainersPaused, ContainersStopped int
	Images                                                             int
}

// dockerFormat runs a --format template as the docker CLI does.
func (p *proc) dockerFormat(format string, data any) int {
	s, err := dockerTemplate(format, data)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return 1
	}
	fmt.Fprintln(p.out, s)
	return 0
}

func cmdDocker(p *proc) int {
	args := p.args[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-v", "--version":
			e := p.dockerEngine()
			fmt.Fprintf(p.out, "Docker version %s, build pvesim\n", e.client)
			return 0
		case "-h", "--help":
			args = nil
			continue
		case "-H", "--host", "-c", "--context", "-l", "--log-level", "--config":
			if len(args) > 1 {
				args = args[1:]
			}
		}
		args = args[1:]
	}
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprintln(p.out, "\nUsage:  docker [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nCommon Commands:\n  run         Create and run a new container from an image\n  ps          List containers\n  pull        Download an image from a registry\n  images      List images\n  info        Display system-wide information\n  version     Show the Docker version information")
		return 0
	}
	e := p.dockerEngine()
	// Flags of the modelled subcommands that take a value, so that an
	// image name is told from a flag's value.
	f := parseFlags(args[1:], "-f", "--format", "-p", "--publish", "-v", "--volume", "-e", "--env", "--name", "--restart",
		"-w", "--workdir", "--network", "-u", "--user", "-h", "--hostname", "--entrypoint", "--mount", "-l", "--label", "--platform")
	format, hasFormat := f.get("-f", "--format")
	switch args[0] {
	case "version":
		if hasFormat {
			type side struct{ Version, Os, Arch string }
			data := struct{ Client, Server *side }{Client: &side{e.client, "linux", "amd64"}}
			if e.running {
				data.Server = &side{e.server, "linux", "amd64"}
			}
			code := p.dockerFormat(format, data)
			if !e.running {
				fmt.Fprintln(p.err, dockerNoDaemon)
				return 1
			}
			return code
		}
		fmt.Fprintf(p.out, "Client:\n Version:           %s\n API version:       1.48\n OS/Arch:           linux/amd64\n Context:           default\n", e.client)
		if !e.running {
			fmt.Fprintln(p.err, dockerNoDaemon)
			return 1
		}
		fmt.Fprintf(p.out, "\nServer:\n Engine:\n  Version:          %s\n  API version:      1.48 (minimum version 1.24)\n  OS/Arch:          linux/amd64\n", e.server)
		return 0
	case "compose", "buildx":
		pl, ok := e.plugin(args[0])
		if !ok {
			fmt.Fprintf(p.err, "docker: unknown command: docker %s\n\nRun 'docker --help' for more information\n", args[0])
			return 1
		}
		if len(f.args) > 0 && f.args[0] == "version" {
			switch {
			case args[0] == "buildx":
				fmt.Fprintf(p.out, "github.com/docker/buildx %s\n", pl.version)
			case f.has("--short"):
				fmt.Fprintln(p.out, strings.TrimPrefix(pl.version, "v"))
			default:
				fmt.Fprintf(p.out, "Docker Compose version %s\n", pl.version)
			}
			return 0
		}
	}
	if !e.running {
		fmt.Fprintln(p.err, dockerNoDaemon)
		return 1
	}
	switch args[0] {
	case "info":
		info := dockerInfo{ServerVersion: e.server, Driver: "overlay2", LoggingDriver: e.logDriver, CgroupDriver: "systemd",
			CgroupVersion: "2", KernelVersion: kernelRelease, OperatingSystem: "Debian GNU/Linux 12 (bookworm)", OSType: "linux",
			Architecture: "x86_64", Name: p.s.g.hostname, DockerRootDir: "/var/lib/docker"}
		if hasFormat {
			return p.dockerFormat(format, info)
		}
		fmt.Fprintf(p.out, "Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n Plugins:\n", e.client)
		for _, pl := range e.plugins {
			fmt.Fprintf(p.out, "  %s: Docker %s (Docker Inc.)\n    Version:  %s\n    Path:     %s\n", pl.name, strings.ToUpper(pl.name[:1])+pl.name[1:], pl.version, pl.path)
		}
		fmt.Fprintf(p.out, "\nServer:\n Containers: 0\n  Running: 0\n  Paused: 0\n  Stopped: 0\n Images: 0\n Server Version: %s\n Storage Driver: %s\n Logging Driver: %s\n Cgroup Driver: %s\n Cgroup Version: %s\n Kernel Version: %s\n Operating System: %s\n OSType: %s\n Architecture: %s\n Name: %s\n Docker Root Dir: %s\n",
			info.ServerVersion, info.Driver, info.LoggingDriver, info.CgroupDriver, info.CgroupVersion, info.KernelVersion,
			info.OperatingSystem, info.OSType, info.Architecture, info.Name, info.DockerRootDir)
		return 0
	case "ps", "container":
		if !f.has("-q", "--quiet") {
			fmt.Fprintln(p.out, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES")
		}
		return 0
	case "images":
		if !f.has("-q", "--quiet") {
			fmt.Fprintln(p.out, "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE")
		}
		return 0
	case "pull", "run", "create":
		image := ""
		if len(f.args) > 0 {
			image = f.args[0]
		}
		if image != "" && !strings.Contains(image, ":") {
			image += ":latest"
		}
		unreachable := `Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.10.10.1:53: dial udp 10.10.10.1:53: connect: network is unreachable`
		if args[0] == "pull" {
			fmt.Fprintln(p.err, unreachable)
			return 1
		}
		fmt.Fprintf(p.err, "Unable to find image '%s' locally\ndocker: %s\n\nRun 'docker %s --help' for more information\n", image, unreachable, args[0])
		return 125
	}
	return 0
}
