#!/usr/bin/env bash
# Builds the Debian package pgopt_<version>_<arch>.deb from this tree with dpkg-deb.
#
#   scripts/package.sh [BUILD_DIR [OUT_DIR]]    BUILD_DIR default build, OUT_DIR default BUILD_DIR
#
# Packages the pgopt of BUILD_DIR (configured RelWithDebInfo and built first if it is not; a
# sanitizer build is refused), stripped. The package's files come from config/ (the unit, the
# config with every key explained) and config/debian/ (maintainer scripts, conffiles, man page);
# Depends comes from dpkg-shlibdeps. The last line of output is the .deb's absolute path (a
# contract: tests and release tooling read it), everything else goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$root/build}")
out=$(realpath -m "${2:-$build}")
deb_src=$root/config/debian

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGOPT_TESTS=OFF -DPGOPT_BENCH=OFF >&2
fi
if grep -q '^PGOPT_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "package.sh: $build is a sanitizer build; package a normal one" >&2
  exit 1
fi
cmake --build "$build" --target pgopt -j"$(nproc)" >&2

version=$(sed -n 's/^project(pgopt VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
changelog_version=$(sed -n '1s/^pgopt (\([^)]*\)).*/\1/p' "$deb_src/changelog")
if [ "$version" != "$changelog_version" ]; then
  echo "package.sh: CMakeLists.txt says $version, config/debian/changelog $changelog_version: add a changelog entry" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/pgopt
mkdir -p "$stage/DEBIAN"

install -D -m 755 "$build/pgopt" "$stage/usr/bin/pgopt"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/pgopt"

# /etc/pgopt/pgopt.toml: config/pgopt.toml's [pooler] part (every key with its default, kept
# current by the unit tests) and a database section that assumes nothing but a local server.
install -d -m 755 "$stage/etc/pgopt"
sed '/^# One table per database/,$d' "$root/config/pgopt.toml" >"$stage/etc/pgopt/pgopt.toml"
cat "$deb_src/databases.toml" >>"$stage/etc/pgopt/pgopt.toml"
install -m 640 "$deb_src/users.txt" "$stage/etc/pgopt/users.txt"
chmod 644 "$stage/etc/pgopt/pgopt.toml"

# The unit of config/ with the packaged binary's path.
install -d "$stage/lib/systemd/system"
sed 's|/usr/local/bin/pgopt|/usr/bin/pgopt|g' "$root/config/pgopt.service" >"$stage/lib/systemd/system/pgopt.service"
chmod 644 "$stage/lib/systemd/system/pgopt.service"

install -d "$stage/usr/share/man/man1" "$stage/usr/share/doc/pgopt"
gzip -9n <"$deb_src/pgopt.1" >"$stage/usr/share/man/man1/pgopt.1.gz"
gzip -9n <"$deb_src/changelog" >"$stage/usr/share/doc/pgopt/changelog.gz"
install -m 644 "$deb_src/copyright" "$stage/usr/share/doc/pgopt/copyright"
for doc in configuration operations analyzer migration-from-pgbouncer; do
  install -m 644 "$root/docs/$doc.md" "$stage/usr/share/doc/pgopt/$doc.md"
done
chmod 644 "$stage/usr/share/man/man1/pgopt.1.gz" "$stage/usr/share/doc/pgopt/changelog.gz"

# Depends from the shared libraries the binary links (dpkg-shlibdeps wants a debian/control).
mkdir -p "$work/shlibs/debian"
printf 'Source: pgopt\n\nPackage: pgopt\nArchitecture: any\n' >"$work/shlibs/debian/control"
depends=$(cd "$work/shlibs" && dpkg-shlibdeps -O -e"$stage/usr/bin/pgopt" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
  "$deb_src/control.in" >"$stage/DEBIAN/control"
install -m 644 "$deb_src/conffiles" "$stage/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 755 "$deb_src/$s" "$stage/DEBIAN/$s"; done
(cd "$stage" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
chmod 644 "$stage/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/pgopt_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "$deb"
