package provision

import "corral/exec/inspect"

// helpersPath is where the helper environment is placed for each script.
const helpersPath = "/tmp/.corral-helpers.sh"

// HelperScript is sourced before every template script (original product
// §4.7), so templates written for it keep working: PATH with
// /usr/local/bin, non-interactive apt, the log_* functions, OS detection,
// CONTAINER_USER (recomputed per script: an earlier script may create
// it) and save_credential, whose files discovery matches to units by name.
const HelperScript = `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

_corral_log() { printf '[%s] [%-7s] %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$1" "$2"; }
log_info() { _corral_log INFO "$*"; }
log_warn() { _corral_log WARNING "$*"; }
log_error() { _corral_log ERROR "$*" >&2; }

CONTAINER_OS=unknown
CONTAINER_OS_VERSION=unknown
if [ -r /etc/os-release ]; then
  CONTAINER_OS=$(. /etc/os-release; echo "${ID:-unknown}")
  CONTAINER_OS_VERSION=$(. /etc/os-release; echo "${VERSION_ID:-unknown}")
fi
export CONTAINER_OS CONTAINER_OS_VERSION

if command -v apt-get >/dev/null 2>&1; then _PKG_MGR=apt
elif command -v apk >/dev/null 2>&1; then _PKG_MGR=apk
elif command -v dnf >/dev/null 2>&1; then _PKG_MGR=dnf
else _PKG_MGR=unknown; fi

CONTAINER_USER=$(getent passwd 1000 2>/dev/null | cut -d: -f1)
export CONTAINER_USER

is_installed() { command -v "$1" >/dev/null 2>&1; }

run_as_user() { sudo -H -u "$CONTAINER_USER" -- "$@"; }

_CORRAL_APT_UPDATED=
ensure_installed() {
  is_installed "$1" && return 0
  if [ "$_PKG_MGR" = apt ]; then
    if [ -z "$_CORRAL_APT_UPDATED" ]; then apt-get update -qq || return 1; _CORRAL_APT_UPDATED=1; fi
    apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$1"
  else
    log_error "ensure_installed: unsupported package manager $_PKG_MGR"; return 1
  fi
}

wait_for_apt_lock() {
  is_installed fuser || return 0
  local waited=0
  while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; do
    if [ "$waited" -ge 60 ]; then log_warn "apt is still locked after 60s"; return 1; fi
    sleep 2; waited=$((waited + 2))
  done
  return 0
}

generate_password() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c "${1:-16}"; }

# save_credential SERVICE KEY VALUE: upsert KEY=VALUE in the service's file
# (named exactly like its systemd unit, without an extension; mode 600).
save_credential() {
  local dir=` + inspect.CredentialDir + ` file tmp
  if [ $# -ne 3 ] || [ -z "$1" ] || [ -z "$2" ]; then log_error "usage: save_credential SERVICE KEY VALUE"; return 1; fi
  case $1 in */*|.*) log_error "save_credential: bad service name $1"; return 1 ;; esac
  mkdir -p "$dir" && chmod 700 "$dir"
  file="$dir/$1"; tmp="$dir/.$1.tmp"
  : > "$tmp" && chmod 600 "$tmp"
  if [ -f "$file" ]; then grep -v "^$2=" "$file" >> "$tmp" || true; fi
  printf '%s=%s\n' "$2" "$3" >> "$tmp"
  mv -f "$tmp" "$file"
}
`
