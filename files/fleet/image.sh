# The Debian 12 systemd image every host boots, built once and cached by the hash of what
# makes it. Sourced by fleet.sh.
# shellcheck shell=bash

IMAGE=attrition-fleet-base

image_hash() {
  cat "$HERE/Dockerfile" "$HERE/build-rootfs.sh" /usr/local/share/ca-certificates/*.crt 2>/dev/null |
    sha256sum | cut -c1-12
}

need_image() {
  local tag
  tag="$IMAGE:$(image_hash)"
  if docker image inspect "$tag" >/dev/null 2>&1; then return; fi
  command -v debootstrap >/dev/null || apt_install debootstrap
  local work
  work=$(mktemp -d /var/tmp/fleet-image.XXXXXX)
  log "building $tag (debootstrap, about a minute)"
  bash "$HERE/build-rootfs.sh" "$work/rootfs"
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  cp "$HERE/Dockerfile" "$work/"
  docker build --quiet -t "$tag" -t "$IMAGE:latest" "$work" >/dev/null
  rm -rf "$work"
}

