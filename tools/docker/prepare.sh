#!/usr/bin/env bash
# Gets a machine ready for test/docker: a running Docker engine (installed and started
# when missing), the Dockerfile's base image (a local stand-in when it cannot be pulled),
# and the image itself, built from this checkout as $DOCKER_TEST_IMAGE.
#
# Everything it creates is namespaced "chat-dt": the image chat-dt/app, containers and
# images labelled chat-dt, the engine's log /var/log/chat-dt-dockerd.log. Needs root
# (apt-get, dockerd) unless an engine already answers.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE="${DOCKER_TEST_IMAGE:-chat-dt/app:latest}"
say() { echo "docker-test: $*"; }

# ---------------------------------------------------------------- the engine
ensure_engine() {
  if docker info >/dev/null 2>&1; then return; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    say "installing Docker (Debian's docker.io)"
    export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
    apt-get update -q >/dev/null
    apt-get install -y -q docker.io >/dev/null
  fi
  say "starting dockerd (overlay2, cgroupfs, no bridge: the tests use host networking; log /var/log/chat-dt-dockerd.log)"
  # Niced, so builds and containers (its children) yield to the other work on the machine.
  # The open-files limit as systemd's docker.service gives it: containers may raise theirs
  # up to it (the ECS task asks for 65535). setsid and closed descriptors: the engine
  # outlives this script and holds none of its pipes.
  (
    ulimit -n 1048576 2>/dev/null || true
    exec setsid nice -n 10 dockerd --storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs \
      --bridge=none --iptables=false --ip6tables=false \
      </dev/null >/var/log/chat-dt-dockerd.log 2>&1
  ) &
  echo $! >/var/run/chat-dt-dockerd.pid
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  say "dockerd did not answer within 60 s; its log:"
  tail -20 /var/log/chat-dt-dockerd.log
  exit 1
}

# ---------------------------------------------------------------- the base image
# The official node image when it can be pulled; otherwise a stand-in under the same tag:
# Debian (debootstrap minbase, from Debian's packages) + this machine's Node.js and npm +
# the official image's `node` user (uid/gid 1000, /home/node). Only this test builds it;
# the Dockerfile stays on the official image.
ensure_base() {
  local tag
  tag="$(sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile | head -1)"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    if [ -n "$(docker image inspect -f '{{index .Config.Labels "chat-dt.standin"}}' "$tag" 2>/dev/null)" ]; then
      say "base image $tag: the STAND-IN built earlier by this script ($(docker image inspect -f '{{index .Config.Labels "chat-dt.standin"}}' "$tag"))"
    else
      say "base image $tag: present"
    fi
    return
  fi
  if timeout 60 docker pull -q "$tag" >/dev/null 2>&1; then
    say "base image $tag: pulled"
    return
  fi
  local node_bin node_version npm_dir suite mirror rootfs
  node_bin="$(readlink -f "$(command -v node)")"
  node_version="$("$node_bin" --version)"
  case "$tag" in node:20*) ;; *) say "the Dockerfile's base $tag is not node:20; update ensure_base"; exit 1 ;; esac
  case "$node_version" in v20.*) ;; *) say "$tag cannot be pulled and this machine's Node.js is $node_version, not 20"; exit 1 ;; esac
  npm_dir="$(npm root -g)/npm"
  suite="$(echo "$tag" | grep -oE 'bookworm|bullseye|trixie' || echo bookworm)"
  mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  say "base image $tag cannot be pulled: building a STAND-IN under that tag (debootstrap --variant=minbase $suite + this machine's Node.js $node_version and npm $(npm --version) + user node 1000:1000)"
  command -v debootstrap >/dev/null 2>&1 || { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -q debootstrap >/dev/null; }
  rootfs="$(mktemp -d /var/tmp/chat-dt-rootfs.XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf --one-file-system '$rootfs'" EXIT
  nice -n 10 debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    tail -20 "$rootfs.log"
    exit 1
  }
  rm -f "$rootfs.log"
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* "$rootfs"/var/log/*.log
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change "LABEL chat-dt=1 chat-dt.standin=debootstrap-$suite+node-$node_version" \
    --change 'CMD ["node"]' \
    - "$tag" >/dev/null
  rm -rf --one-file-system "$rootfs"
  trap - EXIT
  say "stand-in $tag built"
}

# ---------------------------------------------------------------- the image
build_image() {
  local created_ca=""
  # The extra CA is for the build stages only (see the Dockerfile). A developer's own
  # extra-ca.pem wins; otherwise the bundle this machine's Node trusts (NODE_EXTRA_CA_CERTS),
  # else the system's: inside a container the registry may be reached only through a
  # TLS-inspecting proxy that this machine trusts.
  local host_ca="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
  if [ ! -f extra-ca.pem ] && [ -f "$host_ca" ]; then
    cp "$host_ca" extra-ca.pem
    created_ca=1
  fi
  [ -f extra-ca.pem ] && say "build stages trust extra-ca.pem (not shipped in the runtime image)"
  say "building $IMAGE (legacy builder, host network)"
  local started=$SECONDS status=0 previous
  previous="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
  DOCKER_BUILDKIT=0 nice -n 10 docker build --network host --label chat-dt=1 -t "$IMAGE" . >/var/tmp/chat-dt-build.log 2>&1 || status=$?
  [ -n "$created_ca" ] && rm -f extra-ca.pem
  if [ "$status" -ne 0 ]; then
    tail -40 /var/tmp/chat-dt-build.log
    say "build failed (full log: /var/tmp/chat-dt-build.log)"
    exit 1
  fi
  say "built $IMAGE in $((SECONDS - started)) s, $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
  # The previous build of this image, now untagged (the build stages' cached layers stay).
  if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
  fi
}

# Containers an interrupted run left behind (one docker test at a time per machine).
remove_stale_containers() {
  local stale
  stale="$(docker ps -aq --filter label=chat-dt=1)"
  if [ -n "$stale" ]; then
    say "removing $(echo "$stale" | wc -l) container(s) left by an earlier run"
    echo "$stale" | xargs docker rm -f >/dev/null
  fi
}

ensure_engine
remove_stale_containers
ensure_base
build_image
