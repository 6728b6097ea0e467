/**
 * Runs one bench job in this process and prints its figures as the last
 * line of stdout (`{"figures": {...}, "cpuSeconds": n}`), or the error on stderr with exit
 * status 1. bench/run.ts starts one of these per run:
 *
 *   node --import tsx bench/child.ts <job> '<params as JSON>'
 */
import { JOBS, type JobParams } from './jobs.js';

const [name, paramsText] = process.argv.slice(2);
const job = name !== undefined ? JOBS[name] : undefined;
if (job === undefined) {
  console.error(
    `usage: bench/child.ts <job> '<params JSON>'; jobs: ${Object.keys(JOBS).join(', ')}`,
  );
  process.exit(2);
}
try {
  const cpu = process.cpuUsage();
  const figures = await job(JSON.parse(paramsText ?? '{}') as JobParams);
  // CPU time of this process during the job (both stacks in memory; tcpts'
  // side over TUN): steadier than wall time on a shared machine.
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ figures, cpuSeconds })}\n`);
  // Timers of closed stacks (TIME-WAIT) and kernel helpers may linger: the job is over.
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
}
