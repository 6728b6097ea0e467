/**
 * Reads a V8 CPU profile (the `.cpuprofile` that `node --cpu-prof` writes)
 * and sums self time per function, so the bench can print where the time
 * went next to its figures and the next speed-up starts from data.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const LOADING =
  /^node:internal\/(modules|deps\/cjs-module-lexer|bootstrap)|node_modules\/(tsx|esbuild|get-tsconfig)\//;

/** One function's share of the samples. */
export interface ProfileEntry {
  /** `name (file:line)`, the file relative to the repository. */
  where: string;
  /** Self time as a fraction of all samples (0..1). */
  self: number;
}

/**
 * The functions with the most self time in a profile, largest first, as
 * shares of the samples outside module loading (node's loaders, tsx).
 */
export function topSelf(path: string, root: string, count = 25): ProfileEntry[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const micros = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (node === undefined) continue;
    const frame = node.callFrame;
    let file = frame.url.replace(/^file:\/\//, '');
    if (file.startsWith('/')) file = relative(root, file);
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    // Loading and transpiling modules happens once per process, before the
    // measured work: left out, so the shares are those of the work.
    if (LOADING.test(file)) continue;
    // TypeScript runs transpiled (tsx), so a .ts file's line numbers are the
    // transpiled code's: the file alone says more.
    const line = file.endsWith('.ts') ? '' : `:${frame.lineNumber + 1}`;
    const where = file === '' ? name : `${name} (${file}${line})`;
    micros.set(where, (micros.get(where) ?? 0) + dt);
    total += dt;
  }
  return [...micros.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, count)
    .map(([where, us]) => ({ where, self: total > 0 ? us / total : 0 }));
}
