/**
 * How `tcpts connect` turns HOST into an address: a literal as it is, a
 * name through the host's own resolver (getaddrinfo via node:dns, so
 * /etc/hosts and the system's DNS apply), keeping the first address of a
 * family tcpts has an address for on its device.
 */
import { lookup as dnsLookup } from 'node:dns';
import { IpAddr } from '../stack/index.js';

/** One address of a name, as node:dns's `lookup(name, { all: true })` gives them. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** node:dns's `lookup(name, { all: true }, callback)`, or a stand-in (tests). */
export type LookupAll = (
  hostname: string,
  callback: (error: NodeJS.ErrnoException | null, addresses: ResolvedAddress[]) => void,
) => void;

/** The host's resolver: every address of `hostname`, in the order the system prefers them. */
export const systemLookupAll: LookupAll = (hostname, callback) => {
  dnsLookup(hostname, { all: true }, (error, addresses) => callback(error, addresses ?? []));
};

/** What {@link resolveHost} found: the address to connect to, and every address the name had. */
export interface Resolution {
  address: string;
  /** True when HOST was a name (not a literal address). */
  resolved: boolean;
  /** Every address the name resolved to (just the literal for one). */
  all: string[];
}

/**
 * Resolves `host` for a connection from a stack that has addresses of the
 * `families` given. Resolves to the choice, or to a one-line message: the
 * resolver's error with its code, or that no address is of a usable family.
 */
export function resolveHost(
  host: string,
  families: ReadonlyArray<4 | 6>,
  lookupAll: LookupAll = systemLookupAll,
): Promise<Resolution | string> {
  const literal = IpAddr.parse(host);
  if (literal !== null) {
    return Promise.resolve({ address: literal.text, resolved: false, all: [literal.text] });
  }
  return new Promise((done) => {
    lookupAll(host, (error, addresses) => {
      if (error !== null) {
        const code = error.code ?? 'error';
        const why =
          code === 'ENOTFOUND'
            ? 'no such host'
            : code === 'EAI_AGAIN'
              ? 'the resolver did not answer (try again)'
              : error.message;
        done(`cannot resolve ${host}: ${why} (${code})`);
        return;
      }
      const all = addresses.map((a) => a.address);
      const usable = addresses.find((a) => families.includes(a.family as 4 | 6));
      if (usable === undefined) {
        const have = families.map((f) => `IPv${f}`).join(' and ');
        done(
          all.length === 0
            ? `cannot resolve ${host}: no address (ENOTFOUND)`
            : `${host} is ${all.join(', ')}, but tcpts has only ${have} (give --addr of that family too)`,
        );
        return;
      }
      done({ address: usable.address, resolved: true, all });
    });
  });
}
