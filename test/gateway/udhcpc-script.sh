#!/bin/sh
# udhcpc's script for the gateway tests: applies the lease to the guest's
# interface (address and default route) and prints what it got, without
# touching /etc/resolv.conf (the test's resolver gets its own).
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route replace default via "$r" dev "$interface"; done
    echo "lease ip=$ip mask=$mask router=$router dns=$dns lease=$lease"
    ;;
esac
exit 0
