#!/usr/bin/env bash
# Build the naftiko-runtime image with podman where no image registry is reachable.
#
#   scripts/build-image.sh [TAG]          # default tag: localhost/naftiko-runtime:dev
#
# The base image is made here, once, with debootstrap (Debian bookworm, minbase) plus Debian's
# python3 and python3-venv (Python 3.11; the image makes its own venv, so it needs no
# python3-pip), trusting the host's certificate authorities so that pip reaches the package
# index from inside the build. Everything podman
# keeps (its settings, its storage, the base) lives under NAFTIKO_IMAGE_CACHE
# (default /var/tmp/naftiko-image-cache) and is reused, so a second build is fast; nothing
# under /etc is changed; delete that folder to start afresh (e.g. after the host's CAs change).
# Needs root, and the packages podman, buildah, runc and debootstrap.
#
# Any podman command that should see the same images needs the same settings:
#   eval "$(scripts/build-image.sh --env)"; podman images
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${NAFTIKO_IMAGE_CACHE:-/var/tmp/naftiko-image-cache}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=localhost/naftiko-base:bookworm-py311

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
export CONTAINERS_CONF="$CACHE/containers.conf" CONTAINERS_STORAGE_CONF="$CACHE/storage.conf"

if [ "${1:-}" = "--env" ]; then
    printf 'export CONTAINERS_CONF=%q CONTAINERS_STORAGE_CONF=%q\n' "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF"
    exit 0
fi
TAG=${1:-localhost/naftiko-runtime:dev}

# One build at a time per cache (the storage and the base are shared).
exec 9>"$CACHE/lock"
flock 9

# crun refuses this kind of machine's cgroup setup: runc. Container ulimits may not exceed the
# machine's hard limits, which podman's defaults (1048576 files) do.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
nproc=$(ulimit -Hu)
{ [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$CACHE/storage"
runroot = "$CACHE/run"
EOF

if ! podman image exists "$BASE"; then
    rootfs="$CACHE/rootfs"
    if [ ! -e "$rootfs/.complete" ]; then
        rm -rf "$rootfs"
        echo "build-image: debootstrap bookworm into $rootfs (once)" >&2
        debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
            bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
            || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
        # The host's certificate authorities (a proxy's own CA included), for pip in the build.
        cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
        printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
        chroot "$rootfs" apt-get clean
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
        touch "$rootfs/.complete"
    fi
    tar -C "$rootfs" --exclude=./.complete --numeric-owner -c . \
        | podman import --change 'CMD ["python3"]' - "$BASE" >/dev/null
fi

# --format docker keeps the HEALTHCHECK (OCI images have none); host network: no CNI setup needed
podman build --pull=never --format docker --build-arg "BASE_IMAGE=$BASE" --network=host -t "$TAG" "$ROOT"
# earlier builds' images, now untagged, would otherwise pile up in the cache
podman image prune -f >/dev/null
