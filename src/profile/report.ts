// The whole profile as one JSON document (`--json FILE`); docs/profile.md describes the schema.
import { analyze, isWrapper, labelOf, type ProcessView } from './analyze.js';
import { deferCandidates, type DeferCandidate } from './defer.js';
import type { ProcessProfile } from './schema.js';
import type { LazyRecord } from '../lazy/records.js';

export const REPORT_SCHEMA = 'coldstart.profile/1';

export interface Profile {
  views: ProcessView[];
  candidates: DeferCandidate[];
  lazy: { pid: number; records: LazyRecord[] }[];
}

export function buildProfile(profiles: ProcessProfile[], lazy: Profile['lazy']): Profile {
  const views = profiles.map(analyze);
  const seen = new Map<string, DeferCandidate>();
  for (const view of views) {
    if (isWrapper(view.profile)) continue;
    for (const candidate of deferCandidates(view)) {
      const key = `${candidate.importer}\0${candidate.specifier}`;
      const before = seen.get(key);
      if (before === undefined || before.savingMs < candidate.savingMs) seen.set(key, candidate);
    }
  }
  const candidates = [...seen.values()].sort((a, b) => b.savingMs - a.savingMs);
  return { views, candidates, lazy };
}

export function reportJson(profile: Profile, meta: { command: string[]; exitCode: number; wallMs: number; cwd: string }) {
  return {
    schema: REPORT_SCHEMA,
    command: meta.command,
    cwd: meta.cwd,
    exitCode: meta.exitCode,
    wallMs: meta.wallMs,
    processes: profile.views.map((view) => ({
      pid: view.profile.pid,
      ppid: view.profile.ppid,
      argv: view.profile.argv,
      mainPath: view.profile.mainPath,
      nodeVersion: view.profile.nodeVersion,
      esmHooks: view.profile.esmHooks,
      esmHooksFromMs: view.profile.esmHooksFromMs ?? null,
      wrapper: isWrapper(view.profile),
      timeOrigin: view.profile.timeOrigin,
      wallMs: view.profile.wallMs,
      loadingMs: view.loadingMs,
      moduleCount: view.moduleCount,
      builtinCount: view.builtinCount,
      fromPackCount: view.fromPackCount,
      byFormat: view.byFormat,
      modules: view.profile.modules.map((m) => ({
        ...m,
        label: labelOf(m.key, meta.cwd),
        inclusiveMs: view.nodes.get(m.id)?.inclusiveMs ?? m.selfMs,
      })),
      edges: view.profile.edges,
      coverage: view.profile.coverage,
    })),
    deferCandidates: profile.candidates,
    lazy: profile.lazy,
  };
}
