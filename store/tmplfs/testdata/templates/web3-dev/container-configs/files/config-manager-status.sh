#!/bin/sh
echo "config-manager: ok"
