#!/bin/sh
# Air-gapped build of the sandbox root filesystem: a minimal Debian with Python, numpy and scipy,
# fetched through apt's configured mirror (no container registry needed). Run as root.
# usage: build-rootfs.sh ROOTDIR MIRROR SUITE PACKAGES_FILE
set -eu
root=$1 mirror=$2 suite=$3 pkgfile=$4
pkgs=$(grep -v '^[[:space:]]*#' "$pkgfile" | grep -v '^[[:space:]]*$' | paste -sd, -)
debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$mirror"
# Nothing here is needed to run Python; smaller image, faster import.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/info "$root"/usr/share/locale
mkdir -p "$root/gpiot" "$root/work"
# Byte-compile once so read-only containers need not.
chroot "$root" python3 -c "import numpy, scipy.signal, scipy.stats, scipy.fft, scipy.interpolate"
