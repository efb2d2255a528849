#!/bin/sh
# Makes sure the test dependencies are there: CMocka, pkg-config, a C++ compiler, python3.
# Installs the missing ones with apt-get when run as root on Debian; otherwise says what to
# install. The PyTorch/numpy peers are optional (reference tests skip without them); set
# NEGS_WITH_TORCH=1 to install them too, NEGS_WITH_FUZZ=1 for clang-14 (make fuzz).
missing=""
[ -f /usr/include/cmocka.h ] || missing="$missing libcmocka-dev"
command -v pkg-config > /dev/null 2>&1 || missing="$missing pkg-config"
command -v c++ > /dev/null 2>&1 || missing="$missing g++"
command -v cc > /dev/null 2>&1 || missing="$missing gcc"
[ -x /usr/bin/python3 ] || missing="$missing python3"
optional=""
if [ "${NEGS_WITH_TORCH:-0}" = 1 ] && ! /usr/bin/python3 -c 'import torch, numpy' 2> /dev/null; then
    optional="python3-torch python3-numpy"
fi
fuzz=""
if [ "${NEGS_WITH_FUZZ:-0}" = 1 ] && ! command -v clang-14 > /dev/null 2>&1; then
    fuzz="clang-14" # make fuzz (libFuzzer); skipped when it does not install
fi
[ -z "$missing$optional$fuzz" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then
    echo "deps: installing$missing $optional $fuzz"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq > /dev/null || exit 1
    if [ -n "$missing" ]; then apt-get install -y -qq $missing > /dev/null || exit 1; fi
    if [ -n "$optional" ]; then
        apt-get install -y -qq $optional > /dev/null || echo "deps: no torch; reference tests will skip"
    fi
    if [ -n "$fuzz" ]; then
        apt-get install -y -qq $fuzz > /dev/null || echo "deps: no clang-14; the fuzz run will skip"
    fi
    exit 0
fi
[ -z "$missing" ] && exit 0
echo "deps: please install:$missing (Debian: apt-get install$missing)"
exit 1
