#!/bin/bash
set -euo pipefail
id coder >/dev/null 2>&1 || useradd -m -s /bin/bash -u 1000 coder
echo 'coder ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/coder
