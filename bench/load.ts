// Load generation for the server benchmarks: autocannon for throughput, and a sequential probe
// that measures the latency a single client sees while other clients saturate the server.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { percentile } from './statistics.js';
import { Agent, request } from 'node:http';

export interface Throughput {
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  p99Ms: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Requests per second across all connections (autocannon's overallRate); unset: as fast as the server answers. */
  overallRate?: number;
  /** Called per request: rotate users or tokens across requests. */
  setupRequest?: (request: { headers?: Record<string, string>; body?: string }) => { headers?: Record<string, string>; body?: string };
}

export async function runLoad(options: LoadOptions): Promise<Throughput> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    ...(options.setupRequest === undefined ? {} : { requests: [{ setupRequest: options.setupRequest as never }] }),
  });
  return { requestsPerSecond: result.requests.average, non2xx: result.non2xx, errors: result.errors + result.timeouts, p99Ms: result.latency.p99 };
}

/** One client, one request at a time, for `durationMs`: the latency an ordinary request sees. */
export async function probeLatency(url: string, headers: Record<string, string>, durationMs: number): Promise<{ p50Ms: number; p99Ms: number; samples: number; failures: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let failures = 0;
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    const started = performance.now();
    const { status } = await send(url, { method: 'GET', headers, agent });
    if (status >= 200 && status < 300) latencies.push(performance.now() - started);
    else failures += 1;
    // Pace the probe so it observes the server rather than loading it.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  agent.destroy();
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), samples: latencies.length, failures };
}

/** A plain HTTP request (node:http, so a test controls its connections); the body is read and dropped. */
export function send(url: string, options: { method: string; headers?: Record<string, string>; body?: string; agent: Agent }): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: options.method, headers: options.headers, agent: options.agent }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** The highest resident set size a process has had (Linux VmHWM), in MB. */
export function peakResidentMegabytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return kilobytes / 1024;
}
