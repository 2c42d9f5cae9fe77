#!/usr/bin/env bash
# Install stockade into .venv (and, as root, the system packages the lab needs).
#   ./install.sh        the tool
#   ./install.sh --dev  the tool plus test and lint dependencies
set -euo pipefail
cd "$(dirname "$0")"
extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"

need_apt=()
command -v nft >/dev/null 2>&1 || need_apt+=(nftables)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v conntrack >/dev/null 2>&1 || need_apt+=(conntrack)
python3 -c 'import ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)  # matrix -o svg
if [ -n "$extras" ]; then
  # The report's tests open it in a real browser; text needs a font.
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "install.sh: apt-get install ${need_apt[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "install.sh: not root; skipping ${need_apt[*]} (needed by the lab and enforcement," \
      "matrix -o svg, and the report's browser tests)" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${extras}"
# Byte-compile now: with PYTHONDONTWRITEBYTECODE set, imports would compile every module on
# every run (about 45 ms of each command's start-up). A stale .pyc is simply ignored.
.venv/bin/python -m compileall -q src >/dev/null
echo "install.sh: stockade installed in .venv" >&2
