#!/usr/bin/env bash
# Make the root file system of the fleet's Debian 12 image in $1 (run as root, needs debootstrap).
set -euo pipefail
root=$1
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,iproute2,procps,curl \
  bookworm "$root" "$mirror" >/dev/null
# A TLS-intercepting proxy's CA (CI machines have one) must be trusted inside the hosts too, or
# pip and curl fail there; an ordinary machine has none here and this copies nothing.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi
# apt-daily would take the dpkg lock in the middle of a converge.
for unit in apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# Empty, so that systemd makes a new machine id per container.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
chroot "$root" apt-get clean
