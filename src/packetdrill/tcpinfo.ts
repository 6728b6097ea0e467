/**
 * TCP_INFO as packetdrill scripts read it (`tcpi_*` names, Linux units and
 * codes) from tcpts's TcpStats snapshot. Segment counts are derived from
 * byte counts and the send MSS. Fields tcpts does not track are reported as
 * unavailable, which skips the script instead of comparing against a guess.
 */
import { TcpState, type TcpStats } from '../tcp/index.js';
import {
  LINUX_CA_STATE,
  LINUX_TCP_STATE,
  TCPI_OPTIONS,
  TCP_INFINITE_SSTHRESH,
} from './constants.js';

const STATE_CODES: Readonly<Record<TcpState, number>> = {
  [TcpState.Established]: LINUX_TCP_STATE.TCP_ESTABLISHED!,
  [TcpState.SynSent]: LINUX_TCP_STATE.TCP_SYN_SENT!,
  [TcpState.SynReceived]: LINUX_TCP_STATE.TCP_SYN_RECV!,
  [TcpState.FinWait1]: LINUX_TCP_STATE.TCP_FIN_WAIT1!,
  [TcpState.FinWait2]: LINUX_TCP_STATE.TCP_FIN_WAIT2!,
  [TcpState.TimeWait]: LINUX_TCP_STATE.TCP_TIME_WAIT!,
  [TcpState.Closed]: LINUX_TCP_STATE.TCP_CLOSE!,
  [TcpState.CloseWait]: LINUX_TCP_STATE.TCP_CLOSE_WAIT!,
  [TcpState.LastAck]: LINUX_TCP_STATE.TCP_LAST_ACK!,
  [TcpState.Listen]: LINUX_TCP_STATE.TCP_LISTEN!,
  [TcpState.Closing]: LINUX_TCP_STATE.TCP_CLOSING!,
};

const CA_CODES: Readonly<Record<TcpStats['caState'], number>> = {
  open: LINUX_CA_STATE.TCP_CA_Open!,
  disorder: LINUX_CA_STATE.TCP_CA_Disorder!,
  cwr: LINUX_CA_STATE.TCP_CA_CWR!,
  recovery: LINUX_CA_STATE.TCP_CA_Recovery!,
  loss: LINUX_CA_STATE.TCP_CA_Loss!,
};

/** The Linux state code (tcpi_state) of a tcpts state. */
export function linuxStateCode(state: TcpState): number {
  return STATE_CODES[state];
}

function segments(bytes: number, mss: number): number {
  return Math.ceil(bytes / Math.max(mss, 1));
}

/**
 * The value of `tcpi_<name>` in `stats`; a string when tcpts cannot report
 * that field (the reason), undefined when no such field exists.
 */
export function tcpInfoValue(stats: TcpStats, name: string): number | string {
  const mss = stats.sendMss;
  switch (name) {
    case 'tcpi_state':
      return STATE_CODES[stats.state];
    case 'tcpi_ca_state':
      return CA_CODES[stats.caState];
    case 'tcpi_snd_cwnd':
      return Math.floor(stats.cwnd / Math.max(mss, 1));
    case 'tcpi_snd_ssthresh':
      return stats.ssthresh >= TCP_INFINITE_SSTHRESH
        ? TCP_INFINITE_SSTHRESH
        : Math.floor(stats.ssthresh / Math.max(mss, 1));
    case 'tcpi_rto':
      return stats.rto;
    case 'tcpi_rtt':
      return stats.srtt;
    case 'tcpi_rttvar':
      return stats.rttvar;
    case 'tcpi_min_rtt':
      return stats.minRtt;
    case 'tcpi_backoff':
      return stats.backoffs;
    case 'tcpi_unacked':
      return stats.unackedSegments;
    case 'tcpi_sacked':
      return segments(stats.sackedBytes, mss);
    case 'tcpi_total_retrans':
      return stats.segmentsRetransmitted;
    case 'tcpi_retransmits':
      return stats.backoffs;
    case 'tcpi_retrans':
      return 'tcpi_retrans (retransmitted segments still in flight) is not in tcpts TcpStats';
    case 'tcpi_lost':
      return 'tcpi_lost (segments currently marked lost) is not in tcpts TcpStats; it only counts losses';
    case 'tcpi_reordering':
      // tcpts's duplicate-ACK threshold is fixed at 3 (Linux's initial tcp_reordering).
      return 3;
    case 'tcpi_options':
      return (
        (stats.timestamps ? TCPI_OPTIONS.TCPI_OPT_TIMESTAMPS! : 0) |
        (stats.sackPermitted ? TCPI_OPTIONS.TCPI_OPT_SACK! : 0) |
        (stats.sendWindowScale > 0 || stats.receiveWindowScale > 0
          ? TCPI_OPTIONS.TCPI_OPT_WSCALE!
          : 0)
      );
    case 'tcpi_snd_wscale':
      return stats.sendWindowScale;
    case 'tcpi_rcv_wscale':
      return stats.receiveWindowScale;
    case 'tcpi_snd_mss':
      return stats.sendMss;
    case 'tcpi_rcv_mss':
      return stats.receiveMss;
    case 'tcpi_snd_wnd':
      return stats.sendWindow;
    case 'tcpi_rcv_wnd':
      return stats.receiveWindow;
    case 'tcpi_bytes_acked':
      return stats.bytesAcked;
    case 'tcpi_bytes_received':
      return stats.bytesReceived;
    case 'tcpi_bytes_sent':
      return stats.bytesSent;
    case 'tcpi_bytes_retrans':
      return stats.bytesRetransmitted;
    case 'tcpi_segs_out':
      return stats.segmentsSent;
    case 'tcpi_segs_in':
      return stats.segmentsReceived;
    case 'tcpi_data_segs_out':
      return stats.dataSegmentsSent;
    case 'tcpi_data_segs_in':
      return stats.dataSegmentsReceived;
    case 'tcpi_pacing_rate':
      // Linux reports ~0 (unlimited) when not pacing; bytes per second.
      return stats.pacingRate < 0 ? Number.MAX_SAFE_INTEGER : stats.pacingRate;
    case 'tcpi_delivery_rate':
      return stats.deliveryRate;
    case 'tcpi_delivered':
      return segments(stats.deliveredBytes, mss);
    case 'tcpi_notsent_bytes':
      return Math.max(stats.sendBuffered - stats.bytesInFlight, 0);
    default:
      // A TCP_INFO field tcpts does not keep: the script cannot be checked.
      return `${name} is not a TCP_INFO field tcpts keeps (TcpStats)`;
  }
}

/** Every name a %{ }% block may read besides tcpi_* fields: Linux's codes. */
export function codeConstant(name: string): number | undefined {
  return LINUX_TCP_STATE[name] ?? LINUX_CA_STATE[name] ?? TCPI_OPTIONS[name];
}
