#!/bin/sh
# Install the Debian packages Heirloom needs, only those that are missing.
# Run by `make setup` (and so by every other make target); quick when all is there.
set -e
# Extra package names may be given (make fuzz adds clang).
PKGS="$* erlang-nox erlang-dev erlang-src elixir rebar3 libcmocka-dev liblmdb-dev lmdb-utils valgrind gcc make procps"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "setup: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
