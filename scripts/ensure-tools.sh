#!/usr/bin/env bash
# Installs the Debian tools the tests use to check tcpts against the real
# thing (tcpdump and tshark read our captures; iproute2 builds the network
# namespaces of the interop tests; curl is a kernel-side client; rsvg-convert
# renders the ladder SVGs to PNG). Runs before
# `npm test`. Needs root to install; without root, the tests that need a
# missing tool report themselves skipped with the reason.
set -u
need=()
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v rsvg-convert >/dev/null 2>&1 || need+=(librsvg2-bin)
[ -x /usr/sbin/udhcpc ] || command -v udhcpc >/dev/null 2>&1 || need+=(udhcpc)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-tools: missing ${need[*]}; not root or no apt-get, so the tests that need them will be skipped" >&2
  exit 0
fi
echo "ensure-tools: installing ${need[*]} from Debian packages" >&2
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq >/dev/null 2>&1 || true
if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
  echo "ensure-tools: apt-get install ${need[*]} failed; the tests that need them will be skipped" >&2
fi
exit 0
