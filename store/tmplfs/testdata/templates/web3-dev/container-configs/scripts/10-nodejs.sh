#!/bin/bash
set -euo pipefail
corepack enable
