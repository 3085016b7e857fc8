#!/bin/sh
# Installs the Debian packages PolyTrace needs, and only the missing ones
# (PostgreSQL, Redis and their Ruby clients: the tests run real servers;
# WEB_PKGS below for the HTTP server and DNS).
# As root it runs apt-get; otherwise it prints the exact command and fails.
# Usage: mk/deps.sh [extra-package ...]
set -eu

# The HTTP server's parser and Rack, and Sinatra for its tests and
# examples/sinatra_pg; Sidekiq for its adapter's tests; connection_pool for
# its tests on the runtime (the web benchmark's pool); dnsmasq's binary
# (without the system service of the dnsmasq package) for the DNS tests.
WEB_PKGS="ruby-http-parser.rb ruby-rack ruby-sinatra ruby-sidekiq ruby-connection-pool dnsmasq-base"
PKGS="gcc make pkg-config ruby ruby-dev liburing-dev libev-dev \
libreadline-dev libncurses-dev libmsgpack-dev libssl-dev openssl libelf-dev libjansson-dev tmux check libsubunit-dev ruby-minitest ruby-msgpack \
postgresql redis-server ruby-pg ruby-redis ruby-sequel \
$WEB_PKGS $*"

missing=""
for p in $PKGS; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done

# Node.js and npm run the DAP tests (tests/dap). Asked for by command, not
# package: a Node.js from elsewhere (NodeSource) brings its own npm.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "polytrace: missing Debian packages:$missing" >&2
    echo "run as root:  apt-get update && $cmd" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt-get (a parallel build, the machine's own updates) may hold the
# dpkg lock for a while: wait for it instead of failing.
lock="-o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
apt-get $lock update -qq
# shellcheck disable=SC2086
apt-get $lock install -y -qq --no-install-recommends $missing
