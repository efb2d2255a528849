#!/bin/sh
# Installs into a temporary prefix (through DESTDIR and PREFIX), builds a program with
# pkg-config against it, runs it, uninstalls, and checks that nothing is left.
set -e
MAKE=${1:-make}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
prefix=/opt/negs-check
$MAKE -s install DESTDIR="$root" PREFIX="$prefix" > /dev/null
pcdir="$root$prefix/lib/pkgconfig"
flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --cflags --libs negsample)
cc -std=c11 -Wall -Werror tests/install/use_pkgconfig.c -o "$root/use" $flags
LD_LIBRARY_PATH="$root$prefix/lib" "$root/use"
# The C++ wrapper is installed where pkg-config names it and builds with the same flags.
hpp=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --variable=cxxheader negsample)
[ -f "$hpp" ] || { echo "check-install: negsample.hpp is not at $hpp"; exit 1; }
c++ -std=c++17 -Wall -Werror tests/install/use_pkgconfig.cpp -o "$root/use_cxx" $flags
LD_LIBRARY_PATH="$root$prefix/lib" "$root/use_cxx"
$MAKE -s uninstall DESTDIR="$root" PREFIX="$prefix" > /dev/null
left=$(find "$root$prefix" -type f -o -type l)
if [ -n "$left" ]; then
    echo "check-install: uninstall left files behind:"; echo "$left"; exit 1
fi
echo "check-install: install, pkg-config builds (C and C++), runs and uninstall all clean"
