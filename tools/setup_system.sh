#!/usr/bin/env bash
# Check (and on Debian as root, install) what `make setup` needs outside Python; say what is missing.
set -euo pipefail

python_bin="${PYTHON:-python3}"
need_apt=()

if ! command -v "$python_bin" >/dev/null; then
  echo "error: $python_bin not found: Python >= 3.10 with venv is required" >&2; exit 1
fi
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "error: $("$python_bin" --version) is too old: Python >= 3.10 is required" >&2; exit 1
fi
"$python_bin" -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
command -v cmake >/dev/null || need_apt+=(cmake)
command -v c++ >/dev/null || need_apt+=(g++)
command -v make >/dev/null || need_apt+=(make)
# Open3D's wheel links against libusb at import time.
ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0' || need_apt+=(libusb-1.0-0)

if [ ${#need_apt[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: missing system packages: ${need_apt[*]}"
if ! command -v apt-get >/dev/null; then
  echo "error: install ${need_apt[*]} with your system's package manager, then run make again" >&2; exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: run as root or install: apt-get install ${need_apt[*]}" >&2; exit 1; }
  sudo="sudo"
fi
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}"; } >/tmp/reasmory-apt.log 2>&1; then
  echo "error: could not install ${need_apt[*]} with apt-get (is the Debian package registry reachable?)" >&2
  tail -n 5 /tmp/reasmory-apt.log >&2
  exit 1
fi
echo "setup: installed ${need_apt[*]}"
