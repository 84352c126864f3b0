#!/bin/sh
# Container entrypoint: hand over to the binary. Inputs arrive as INPUT_* variables and are read
# by the binary itself; nothing is interpolated into a shell command here, so an input cannot
# inject one. Arguments (none by default) pass through unchanged, as argv.
set -eu
exec /usr/local/bin/slsa-provenance-action "$@"
