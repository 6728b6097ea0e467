/**
 * One entry for reading a capture file whatever its format: classic pcap or
 * pcapng, told apart by their first four bytes (pcapng's Section Header
 * Block type 0x0A0D0D0A can be no pcap magic number).
 */
import { readClassicPcap, type PcapError, type PcapFile } from './pcap.js';
import { isPcapng, readPcapng } from './pcapng.js';

/**
 * Reads a whole capture, pcap or pcapng. Returns a {@link PcapError} when
 * the file cannot be opened at all; a damaged tail keeps the records before
 * it and sets `error`. Never throws on bad bytes.
 */
export function readPcap(bytes: Uint8Array): PcapFile | PcapError {
  return isPcapng(bytes) ? readPcapng(bytes) : readClassicPcap(bytes);
}
