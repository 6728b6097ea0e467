#!/bin/bash
# Settings for shell-script-file.pkt. The interpreter reads this file and
# takes its commands as a backtick line's; nothing here is ever executed.

# No TCP timestamps.
sysctl -q net.ipv4.tcp_timestamps=0  # a comment after a command is dropped

# Send buffer default of 64 KB, written with shell arithmetic.
sysctl -q net.ipv4.tcp_wmem="4096 $((64*1024)) 4194304"

# Host machinery tcpts does not have: accepted as no-ops.
ip tcp_metrics flush all > /dev/null 2>&1
tc qdisc add dev tun0 root pfifo
ethtool -K tun0 tso off gso off
