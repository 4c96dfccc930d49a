#!/bin/bash
set -euo pipefail
log_info "Checking network"
getent hosts deb.debian.org >/dev/null
