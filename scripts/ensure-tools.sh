#!/usr/bin/env bash
# Checks for the Debian tools the tests use to check tcpts against the real
# thing (tcpdump and tshark read our captures; iproute2 builds the network
# namespaces of the interop tests; curl is a kernel-side client; rsvg-convert
# renders the ladder SVGs to PNG; chromium runs the browser tests, driven
# by playwright-core). Runs before `npm test`.
#
# It installs the missing ones only when asked to: TCPTS_INSTALL_TOOLS=1 (CI
# sets it in .ci/run), as root, with apt-get. Anywhere else it lists what is
# missing and the tests that need it report themselves skipped with the
# reason. It never fails the test run: a missing tool is a skipped test.
set -u
need=()
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v rsvg-convert >/dev/null 2>&1 || need+=(librsvg2-bin)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/sbin/udhcpc ] || command -v udhcpc >/dev/null 2>&1 || need+=(udhcpc)
command -v hping3 >/dev/null 2>&1 || need+=(hping3)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "${TCPTS_INSTALL_TOOLS:-}" != 1 ]; then
  echo "ensure-tools: missing ${need[*]}: the tests that need them will be skipped." >&2
  echo "ensure-tools: install them (Debian: apt-get install ${need[*]}), or run with TCPTS_INSTALL_TOOLS=1 as root to let this script do it" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-tools: TCPTS_INSTALL_TOOLS=1 but not root or no apt-get: missing ${need[*]}, the tests that need them will be skipped" >&2
  exit 0
fi
echo "ensure-tools: installing ${need[*]} from Debian packages" >&2
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Another apt (unattended-upgrades, a second test run) may hold the dpkg
# lock: wait for it rather than fail at once.
lock=(-o DPkg::Lock::Timeout=120)
# A failed update (one mirror down) still leaves the old lists, which may do.
apt-get "${lock[@]}" update -qq >"$log" 2>&1 || {
  echo "ensure-tools: apt-get update failed; trying the install with the package lists there are:" >&2
  grep -E '^(E|W):' "$log" | tail -n 3 | sed 's/^/  /' >&2
}
if ! apt-get "${lock[@]}" install -y -qq --no-install-recommends "${need[@]}" >"$log" 2>&1; then
  echo "ensure-tools: apt-get install ${need[*]} failed; the tests that need them will be skipped. apt said:" >&2
  # apt's own error lines (E:) say why; without any, its last lines.
  if grep -qE '^E:' "$log"; then
    grep -E '^E:' "$log" | tail -n 5 | sed 's/^/  /' >&2
  else
    tail -n 5 "$log" | sed 's/^/  /' >&2
  fi
fi
exit 0
