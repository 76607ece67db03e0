// CPU time of a server process per thread, from /proc (Linux): the event loop (the main thread,
// whose id is the process id) apart from the rest (argon2 and libuv pool threads, V8's GC helpers).
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = 100;

export interface ProcessCpu {
  /** ms of CPU of the main thread (the event loop). */
  mainMs: number;
  /** ms of CPU of every other thread. */
  otherMs: number;
}

function threadMs(pid: number, tid: string): number {
  // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

export function processCpu(pid: number): ProcessCpu {
  let mainMs = 0;
  let otherMs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ms = threadMs(pid, tid);
      if (tid === String(pid)) mainMs += ms;
      else otherMs += ms;
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return { mainMs, otherMs };
}
