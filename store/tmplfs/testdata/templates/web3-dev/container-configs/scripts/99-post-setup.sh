#!/bin/bash
set -euo pipefail
chown -R coder:coder /home/coder
log_info "Done"
