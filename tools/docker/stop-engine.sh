#!/usr/bin/env bash
# Stops the Docker engine that tools/docker/prepare.sh started (and nothing else): its pid
# file, checked to still name a dockerd. An engine started any other way is left alone.
set -euo pipefail
pidfile=/var/run/chat-dt-dockerd.pid
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
  kill "$pid"
  for _ in $(seq 1 60); do
    [ -d "/proc/$pid" ] || break
    sleep 0.5
  done
  echo "docker-test: stopped the engine (pid $pid)"
fi
rm -f "$pidfile"
