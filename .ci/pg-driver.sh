#!/usr/bin/env bash
# Prints a node_modules directory holding the PostgreSQL driver `pg` (Debian's
# node-pg with the packages it needs, extracted, not installed: it would pull in
# Debian's nodejs), cached across runs. The tests put it on NODE_PATH when `pg`
# is not installed beside gaffer (test/helpers/postgres-cluster.ts).
set -euo pipefail
dest="${GAFFER_PG_DRIVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gaffer/pg-driver}"
packages=(node-pg node-split2 node-xtend node-readable-stream)
if [ ! -f "$dest/node_modules/pg/package.json" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cd "$work"
  if ! apt-get download "${packages[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get download "${packages[@]}" >/dev/null
  fi
  for deb in ./*.deb; do dpkg -x "$deb" root; done
  mkdir -p "$dest"
  rm -rf "$dest/node_modules"
  cp -r root/usr/share/nodejs "$dest/node_modules"
fi
echo "$dest/node_modules"
