#!/bin/sh
# Air-gapped build of a sandbox root filesystem: a minimal Debian with the profile's packages,
# fetched through apt's configured mirror (no container registry needed), plus the profile's
# pinned, hash-checked wheels fetched through pip's configured source. Run as root.
# usage: build-rootfs.sh ROOTDIR MIRROR SUITE PACKAGES_FILE [WHEELS_FILE|-] [IMPORTS]
#   IMPORTS: comma-separated modules imported once at the end (byte-compiles them, and fails
#   the build if one does not import).
set -eu
root=$1 mirror=$2 suite=$3 pkgfile=$4 wheels=${5:--}
imports=${6:-numpy,scipy.signal,scipy.stats,scipy.fft,scipy.interpolate}
pkgs=$(grep -v '^[[:space:]]*#' "$pkgfile" | grep -v '^[[:space:]]*$' | paste -sd, -)
debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$mirror"
# Nothing here is needed to run Python; smaller image, faster import.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/info "$root"/usr/share/locale
mkdir -p "$root/gpiot" "$root/work"
if [ "$wheels" != "-" ]; then
  pyver=$(chroot "$root" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  # The host's pip fetches and unpacks (the image has no pip); pure-Python wheels only.
  "${PYTHON:-python3}" -m pip install -q --no-deps --require-hashes --only-binary=:all: \
    --no-compile --target "$root/usr/local/lib/python$pyver/dist-packages" -r "$wheels"
fi
# Byte-compile once so read-only containers need not (matplotlib: no display, cache in /tmp).
chroot "$root" env MPLBACKEND=Agg MPLCONFIGDIR=/tmp/matplotlib python3 -c "import $imports"
chroot "$root" python3 -m compileall -q /usr/local/lib >/dev/null || true
rm -rf "$root/tmp/matplotlib"
