// Chrome trace-event JSON (the format Perfetto and chrome://tracing open): one complete event
// ("ph":"X") per module load window, one per process run, and process names as metadata.
import { labelOf } from './analyze.js';
import type { ProcessProfile } from './schema.js';

interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

export function renderTrace(profiles: ProcessProfile[], cwd: string): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms' } {
  const t0 = Math.min(...profiles.map((p) => p.timeOrigin));
  const us = (profile: ProcessProfile, ms: number) => Math.round((profile.timeOrigin - t0 + ms) * 1000);
  const events: TraceEvent[] = [];
  for (const profile of profiles) {
    const { pid } = profile;
    events.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: `${pid} ${profile.argv.slice(1).join(' ')}` } });
    events.push({ name: 'process', ph: 'X', pid, tid: 0, ts: us(profile, 0), dur: Math.round(profile.wallMs * 1000), cat: 'run' });
    for (const m of profile.modules) {
      if (m.startMs === null || m.durMs === null) continue;
      events.push({
        name: labelOf(m.key, cwd),
        ph: 'X',
        pid,
        tid: 0,
        ts: us(profile, m.startMs),
        dur: Math.max(1, Math.round(m.durMs * 1000)),
        cat: m.format,
        args: { path: m.key, specifier: m.specifier, selfMs: m.selfMs, resolveMs: m.resolveMs, readMs: m.readMs, evalMs: m.evalMs, size: m.size },
      });
    }
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
}
