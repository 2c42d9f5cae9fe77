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
command -v setpriv >/dev/null 2>&1 || need_apt+=(util-linux)  # the lab's sandbox
command -v curl >/dev/null 2>&1 || need_apt+=(curl)  # the README's lab example, its test
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
# The README's examples type `stockade`; say how to get it on PATH unless it already is.
if [ "$(command -v stockade 2>/dev/null)" != "$PWD/.venv/bin/stockade" ]; then
  cat >&2 <<EOF
install.sh: stockade is not on your PATH yet; to type \`stockade ...\` as the README does:
  source .venv/bin/activate                       # in this shell
  ln -s "$PWD/.venv/bin/stockade" ~/.local/bin/   # in every shell (~/.local/bin on PATH)
  pipx install .                                  # or: its own environment, with pipx
or type .venv/bin/stockade; as root for the lab: sudo .venv/bin/stockade lab ...
EOF
fi
