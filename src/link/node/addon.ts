/**
 * Loads the TUN/TAP addon once, lazily. It lives in its own package,
 * @tcpts/tuntap (packages/tuntap/ of the repository), which compiles a
 * small C file at install: tcpts installs and works without it, only
 * opening a device needs it, and then the error says in one sentence why it
 * is missing and what to do.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's device object (see the comment at the top of packages/tuntap/tuntap.c). */
export interface NativeDevice {
  /** The descriptor of the opened /dev/net/tun. */
  readonly fd: number;
  /** The interface name the kernel gave (a `%d` in the requested name filled in). */
  readonly name: string;
  /** Reads waiting packets back to back into `arena`; returns how many, their sizes in `lengths`. */
  read(arena: Uint8Array, lengths: Int32Array, space: number): number;
  /** Writes `count` packets laid back to back; returns how many were consumed, errno per packet in `errors`. */
  write(arena: Uint8Array, lengths: Int32Array, count: number, errors: Int32Array): number;
  /** Which readiness to be called back for: 1 readable, 2 writable, 0 none. */
  poll(events: number): void;
  /** Whether an active poll keeps the event loop alive. */
  setRef(ref: boolean): void;
  /** Stops polling and closes the descriptor. */
  close(): void;
}

/** The addon's exports. */
export interface NativeBinding {
  /** Opens /dev/net/tun as the named TUN (`tap` false) or TAP device, in `netns` if given; sets the MTU, brings it up if asked. */
  Device: new (
    name: string,
    tap: boolean,
    mtu: number,
    up: boolean,
    netns: string | null,
    callback: (events: number) => void,
  ) => NativeDevice;
}

/** Events the addon reports to the callback (negative: an errno from polling). */
export const PollEvent = {
  Readable: 1,
  Writable: 2,
} as const;

/** Environment variable naming the addon file, for an application that puts it elsewhere. */
export const TUNTAP_ADDON_ENV = 'TCPTS_TUNTAP_ADDON';

/** The package that builds and holds the addon: optional, so that tcpts itself compiles nothing. */
export const TUNTAP_PACKAGE = '@tcpts/tuntap';

/** Where the addon sits in its package, and where its build leaves the reason it could not build. */
const ADDON_IN_PACKAGE = join('build', 'Release', 'tuntap.node');
const REASON_IN_PACKAGE = join('build', 'not-built.txt');

/** Why the addon is not there, and the one thing to do about it. */
interface Failure {
  reason: string;
  hint: string;
}

let configuredPath: string | null = null;
let binding: NativeBinding | null = null;
let failure: Failure | null = null;

/**
 * Tells tcpts where the TUN/TAP addon file is, before the first device is
 * opened: for an application that bundles tcpts and ships `tuntap.node`
 * somewhere of its own. Without it the `TCPTS_TUNTAP_ADDON` environment
 * variable is used, and without that the installed @tcpts/tuntap package.
 */
export function setTuntapAddonPath(path: string): void {
  if (binding !== null) {
    throw new Error(
      'setTuntapAddonPath: the TUN/TAP addon is already loaded; call it before opening a device',
    );
  }
  configuredPath = path;
  failure = null;
}

/**
 * The folder of the installed @tcpts/tuntap, found through package
 * resolution (so that it still works when the code calling it was bundled
 * into another file). In a checkout of tcpts without `npm install`'s
 * workspace link, its packages/tuntap. Null when it is in neither place.
 */
function addonPackage(): string | null {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(`${TUNTAP_PACKAGE}/package.json`));
  } catch {
    // Not installed next to tcpts: a checkout has it in packages/tuntap.
  }
  let tcptsRoot: string;
  try {
    tcptsRoot = dirname(require.resolve('tcpts/package.json'));
  } catch {
    // A copy of the sources outside any package: src/link/node/ and
    // dist/link/node/ are both three levels below the root.
    tcptsRoot = fileURLToPath(new URL('../../..', import.meta.url));
  }
  const checkout = join(tcptsRoot, 'packages', 'tuntap');
  return existsSync(join(checkout, 'package.json')) ? checkout : null;
}

/** The addon file to load, or why there is none. */
function addonLocation(): { path: string; reasonFile: string | null; source: string } | Failure {
  if (configuredPath !== null) {
    return { path: configuredPath, reasonFile: null, source: 'setTuntapAddonPath' };
  }
  const fromEnv = process.env[TUNTAP_ADDON_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { path: fromEnv, reasonFile: null, source: TUNTAP_ADDON_ENV };
  }
  const root = addonPackage();
  if (root === null) {
    return {
      reason: `${TUNTAP_PACKAGE} is not installed`,
      hint: `run 'npm install ${TUNTAP_PACKAGE}' (it compiles a small C addon: Linux, a C compiler)`,
    };
  }
  return {
    path: join(root, ADDON_IN_PACKAGE),
    reasonFile: join(root, REASON_IN_PACKAGE),
    source: TUNTAP_PACKAGE,
  };
}

function load(): NativeBinding | null {
  if (binding !== null || failure !== null) return binding;
  if (process.platform !== 'linux') {
    failure = { reason: `TUN/TAP devices are Linux-only, this is ${process.platform}`, hint: '' };
    return null;
  }
  const location = addonLocation();
  if (!('path' in location)) {
    failure = location;
    return null;
  }
  const { path, reasonFile, source } = location;
  if (!existsSync(path)) {
    if (reasonFile === null) {
      failure = {
        reason: `${path} (from ${source}) does not exist`,
        hint: 'give the path of a built tuntap.node',
      };
      return null;
    }
    // The package's build.mjs leaves the reason it could not build here.
    let reason = `${TUNTAP_PACKAGE} is installed but not built`;
    try {
      reason = readFileSync(reasonFile, 'utf8').trim() || reason;
    } catch {
      // No reason recorded: its install script did not run (npm 11 runs a
      // dependency's only once approved, and --ignore-scripts runs none).
    }
    failure = {
      reason,
      hint:
        `run 'npm rebuild ${TUNTAP_PACKAGE}' with a C compiler on Linux ` +
        `(npm 11 first wants 'npm install-scripts approve ${TUNTAP_PACKAGE}')`,
    };
    return null;
  }
  try {
    binding = createRequire(import.meta.url)(path) as NativeBinding;
  } catch (error) {
    failure = {
      reason: `loading ${path} failed: ${error instanceof Error ? error.message : String(error)}`,
      hint: `run 'npm rebuild ${TUNTAP_PACKAGE}' for this Node`,
    };
  }
  return binding;
}

/**
 * Whether the addon is there, and if not, why not and what to do (for
 * callers that want to skip or explain rather than fail).
 */
export function tuntapAvailability():
  { available: true } | { available: false; reason: string; hint: string } {
  return load() !== null
    ? { available: true }
    : { available: false, reason: failure?.reason ?? '', hint: failure?.hint ?? '' };
}

/** The addon, or an Error (code `ERR_TUNTAP_NOT_BUILT`) saying why it is missing and what to run. */
export function requireAddon(): NativeBinding {
  const b = load();
  if (b !== null) return b;
  const hint = failure !== null && failure.hint !== '' ? `; ${failure.hint}` : '';
  throw Object.assign(
    new Error(`tcpts: the TUN/TAP addon is not available (${failure?.reason ?? ''})${hint}`),
    { code: 'ERR_TUNTAP_NOT_BUILT' },
  );
}
