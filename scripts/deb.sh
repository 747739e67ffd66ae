#!/bin/sh
# `make deb`: the Debian package build/deb/postern_VERSION_ARCH.deb from the
# release binary and packaging/ (systemd units, the commented hub.conf,
# maintainer scripts). Plain dpkg-deb: no debhelper. Dependencies come from
# dpkg-shlibdeps (dpkg-dev, part of build-essential).
#   scripts/deb.sh [BINARY]      default build/release/postern; DEB_OUT=DIR
set -eu
cd "$(dirname "$0")/.."
BIN=${1:-build/release/postern}
OUT=${DEB_OUT:-build/deb}
[ -x "$BIN" ] || { echo "deb: $BIN not built (run make)" >&2; exit 1; }

VERSION=$(sed -n 's/^#define POSTERN_VERSION "\(.*\)"$/\1/p' src/core/version.h | tr - '~')
ARCH=$(dpkg --print-architecture)
root=$OUT/root
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" \
    "$root/etc/postern" "$root/usr/share/doc/postern"

install -m 0755 "$BIN" "$root/usr/bin/postern"
strip --strip-unneeded "$root/usr/bin/postern"
install -m 0644 packaging/systemd/postern-hub.service packaging/systemd/postern-agent.service \
    "$root/lib/systemd/system/"
install -m 0640 packaging/hub.conf "$root/etc/postern/hub.conf"
for d in quickstart configuration operations agent; do
    install -m 0644 "docs/$d.md" "$root/usr/share/doc/postern/"
done
install -m 0644 README.md "$root/usr/share/doc/postern/"
for s in postinst prerm postrm; do
    install -m 0755 "packaging/debian/$s" "$root/DEBIAN/$s"
done
install -m 0644 packaging/debian/conffiles "$root/DEBIAN/conffiles"

# Shared-library dependencies, as dpkg-shlibdeps computes them (it wants a
# debian/control of a source package around it).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/debian"
printf 'Source: postern\n\nPackage: postern\nArchitecture: any\n' >"$work/debian/control"
bin_abs=$(cd "$root/usr/bin" && pwd)/postern
deps=$(cd "$work" && dpkg-shlibdeps -O "$bin_abs" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$deps" ] || { echo "deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$size/" \
    -e "s/@DEPENDS@/$deps/" packaging/debian/control.in >"$root/DEBIAN/control"

deb=$OUT/postern_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "deb: $deb"
