/**
 * Loads the TUN/TAP addon (native/tuntap.c) once, lazily. tcpts installs and
 * works without it: only opening a device needs it, and then the error says
 * in one sentence why it is missing and what to do.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's device object (see the comment at the top of native/tuntap.c). */
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

/** Where the addon sits inside the package, and where the build leaves the reason it could not build. */
const ADDON_IN_PACKAGE = join('native', 'build', 'Release', 'tuntap.node');
const REASON_IN_PACKAGE = join('native', 'build', 'not-built.txt');

let configuredPath: string | null = null;
let binding: NativeBinding | null = null;
let failure: string | null = null;

/**
 * Tells tcpts where the TUN/TAP addon file is, before the first device is
 * opened: for an application that bundles tcpts and ships `tuntap.node`
 * somewhere of its own. Without it the `TCPTS_TUNTAP_ADDON` environment
 * variable is used, and without that the package's own build.
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
 * The package root of tcpts. Found through package resolution (the package
 * resolves its own name), so that it still works when the code calling it
 * was bundled into another file; in a copy of the sources outside any
 * package, the root three levels above this file (src/link/node/ and
 * dist/link/node/ both are).
 */
function packageRoot(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('tcpts/package.json'));
  } catch {
    return fileURLToPath(new URL('../../..', import.meta.url));
  }
}

/** The addon file to load, and the file the build left its reason in (null when not the package's). */
function addonLocation(): { path: string; reasonFile: string | null; source: string } {
  if (configuredPath !== null) {
    return { path: configuredPath, reasonFile: null, source: 'setTuntapAddonPath' };
  }
  const fromEnv = process.env[TUNTAP_ADDON_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { path: fromEnv, reasonFile: null, source: TUNTAP_ADDON_ENV };
  }
  const root = packageRoot();
  return {
    path: join(root, ADDON_IN_PACKAGE),
    reasonFile: join(root, REASON_IN_PACKAGE),
    source: 'package',
  };
}

function load(): NativeBinding | null {
  if (binding !== null || failure !== null) return binding;
  if (process.platform !== 'linux') {
    failure = `TUN/TAP devices are Linux-only, this is ${process.platform}`;
    return null;
  }
  const { path, reasonFile, source } = addonLocation();
  if (!existsSync(path)) {
    if (reasonFile === null) {
      failure = `${path} (from ${source}) does not exist`;
      return null;
    }
    // scripts/build-native.mjs leaves the reason it could not build here.
    let reason = `${ADDON_IN_PACKAGE} does not exist`;
    try {
      reason = readFileSync(reasonFile, 'utf8').trim() || reason;
    } catch {
      // No reason recorded: the install script did not run (e.g. --ignore-scripts).
    }
    failure = reason;
    return null;
  }
  try {
    binding = createRequire(import.meta.url)(path) as NativeBinding;
  } catch (error) {
    failure = `loading it failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  return binding;
}

/** Whether the addon is there, and if not, why not (for callers that want to skip rather than fail). */
export function tuntapAvailability(): { available: true } | { available: false; reason: string } {
  return load() !== null ? { available: true } : { available: false, reason: failure ?? '' };
}

/** The addon, or an Error (code `ERR_TUNTAP_NOT_BUILT`) saying why it is missing and how to build it. */
export function requireAddon(): NativeBinding {
  const b = load();
  if (b !== null) return b;
  throw Object.assign(
    new Error(
      `tcpts: the TUN/TAP addon is not built (${failure}); run \`npm rebuild tcpts\` ` +
        '(or `node scripts/build-native.mjs` in a checkout) with a C compiler on Linux',
    ),
    { code: 'ERR_TUNTAP_NOT_BUILT' },
  );
}
