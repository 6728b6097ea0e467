/**
 * What `decode`, `ladder` and `plot` say about a capture file they cannot
 * read, or whose tail is damaged: one sentence per {@link PcapError}, with
 * the code after it, so the three commands report the same file the same way.
 */
import { PcapError } from '../link/index.js';

const FILE_ERRORS: Readonly<Record<PcapError, string>> = {
  [PcapError.TruncatedHeader]: 'not a capture file: shorter than the 24-byte pcap file header',
  [PcapError.BadMagic]: 'not a pcap or pcapng file: unknown magic number',
  [PcapError.BadVersion]: 'unsupported version (pcap 2.x and pcapng 1.x are read)',
  [PcapError.UnsupportedLinkType]:
    'unsupported link type (Ethernet, raw IP, IPv4, IPv6 and Linux cooked captures are)',
  [PcapError.TruncatedRecord]: 'truncated capture: the file ends inside a packet record',
  [PcapError.BadRecordLength]: 'damaged capture: a packet record claims an impossible length',
  [PcapError.TruncatedBlock]: 'truncated capture: the file ends inside a pcapng block',
  [PcapError.BadBlockLength]: 'damaged capture: a pcapng block has an impossible length',
  [PcapError.BadByteOrder]: 'damaged capture: a pcapng section header has no byte-order magic',
  [PcapError.UnknownInterface]:
    'damaged capture: a pcapng packet names an interface the file did not describe',
};

/** Why a file could not be opened at all: `not a capture file: ... (pcap-truncated-header)`. */
export function describeFileError(error: PcapError): string {
  return `${FILE_ERRORS[error]} (${error})`;
}

/** A damaged tail after `count` good records: `truncated capture: ... (code) after 3 packet(s)`. */
export function describeDamage(error: PcapError, count: number): string {
  return `${describeFileError(error)} after ${count} packet(s)`;
}

/**
 * A capture that holds no TCP packet: plainly so when the whole file was
 * read, else the damage that may have hidden them.
 */
export function describeNoTcp(error: PcapError | null): string {
  return error === null
    ? 'no TCP packets in this capture'
    : `${describeFileError(error)}, and no TCP packets before the damage`;
}
