/**
 * Profiles: the stack defaults a script is written for. Every knob a
 * profile sets is an ordinary TcpConfig field, listed explicitly so that a
 * script's expectations do not move when the library's defaults do.
 */
import { linuxProfile, type TcpConfig } from '../tcp/index.js';

/** What a profile gives a run. */
export interface Profile {
  name: string;
  /** One line for `--help`. */
  description: string;
  /** Every TCP tunable, explicitly. */
  tcp: () => TcpConfig;
}

/**
 * Linux as tcpts models it: the core's own `linuxProfile()` (timestamps, SACK
 * and window scaling offered, IW10, minimum RTO 200 ms, initial RTO 1 s,
 * delayed ACK 40 ms with 16 quick ACKs, RACK-TLP, PRR, F-RTO, RFC 5961),
 * with two differences our scripts were written for: a 6 MiB maximum
 * receive buffer, which implies window scale 7 (a Linux 6.x kernel with its
 * 32 MiB default advertises 10), and NewReno, whose halving the scripts'
 * cwnd/ssthresh expectations assume (a script asks for CUBIC with
 * tcp_congestion_control=cubic). Where Linux departs from the RFC that the
 * core's defaults follow, a named switch turns Linux's behaviour on here.
 */
function linuxTcp(): TcpConfig {
  return {
    ...linuxProfile(),
    maxReceiveBufferSize: 6 * 1024 * 1024,
    congestionControl: 'newreno',
    // Where Linux and the RFC differ, the profile does what Linux does.
    resetDataAfterCloseAsReply: true,
    cwndGrowsByDelivered: true,
  };
}

/** Profiles by name. A `freebsd` profile joins here with its own explicit knobs. */
export const PROFILES: Readonly<Record<string, Profile>> = {
  linux: {
    name: 'linux',
    description:
      'Linux defaults: TS, SACK, wscale 7, IW10, RTO 1 s (min 200 ms), delayed ACK 40 ms',
    tcp: linuxTcp,
  },
};
