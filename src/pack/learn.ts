// Learned deferral at pack time: for every CommonJS module a recorded program loaded, the
// top-level requires that can load at first use, decided with the load graph the recording saw,
// and the rewritten source the pack stores beside the original. Served runs parse nothing.
// The rules, and why each exists: docs/decisions/learned-deferral.md.
import { isBuiltin } from 'node:module';
import { dirname } from 'node:path';
import { keepsValue, lowerLearned, moduleFacts, settleAliases, stateConflict, type DeferSite, type ProcessState } from '../defer/learned.js';

export interface LearnInput {
  /** Absolute path, format and bytes of every packed module. */
  readonly modules: readonly { readonly path: string; readonly format: string; readonly bytes: Buffer }[];
  /** Where `specifier` required (`r`) or imported (`i`) from a file in `dir` went in the recorded runs (an absolute path). */
  readonly resolve: (dir: string, specifier: string, mode: 'r' | 'i') => string | undefined;
  /** Paths or globs the user wants kept eager (the `coldstart.eager` list), as a test. */
  readonly keepEager?: ((path: string) => boolean) | undefined;
  /** Whether every recorded run that loaded `b` had loaded `a` before it: `a`'s effects, if any,
   *  have happened by the time `b` evaluates, so deferring a load of `a` from `b` changes nothing. */
  readonly loadedBefore?: ((a: string, b: string) => boolean) | undefined;
  /** For a module, whether the recorded runs never executed the code at an offset of its
   *  source (V8's block coverage), when they covered it. */
  readonly neverRan?: ((path: string) => ((offset: number) => boolean) | undefined) | undefined;
  /** Whether every recorded run watched process.env and saw only write-backs from `path`'s code. */
  readonly envWritesBack?: ((path: string) => boolean) | undefined;
  /** The files the recorded runs saw change process.env (a write other than a write-back); '*'
   *  for a write from a file not found, process.env replaced, or a run that did not watch. */
  readonly envChangedBy?: readonly string[] | undefined;
  /** The recorded programs' entry modules: `loadedBefore` holds only for what they load whatever the arguments. */
  readonly entries?: readonly string[] | undefined;
}

export interface Learned {
  /** The rewritten source of each module that defers something, what it defers, and where those
   *  requires went in the recorded runs (absolute paths; builtins apart). */
  readonly rewritten: Map<string, { source: Buffer; deferred: string[]; targets: string[] }>;
  /** Candidates refused, by reason, for the summary and the docs' evidence. */
  readonly refused: Map<string, number>;
  /** Each refusal: the importer, the specifier and why (`coldstart pack --lazy --json` lists them). */
  readonly refusals: { module: string; specifier: string; reason: string }[];
  readonly analyzed: number;
  /** What a module loads while it evaluates, once rewritten or (`original`) as written (absolute paths, builtins apart). */
  readonly eagerLoads: (path: string, original?: boolean) => string[];
}

export function learnDeferral(input: LearnInput): Learned {
  const byPath = new Map(input.modules.map((m) => [m.path, m]));
  const facts = new Map<string, ReturnType<typeof moduleFacts> | null>();
  const factsOf = (path: string) => {
    if (!facts.has(path)) {
      const m = byPath.get(path);
      let value: ReturnType<typeof moduleFacts> | null = null;
      if (m !== undefined && (m.format === 'commonjs' || m.format === 'module')) {
        try {
          value = moduleFacts(m.bytes.toString('utf8'), path, m.format, { neverRan: input.neverRan?.(path), envWritesBack: input.envWritesBack?.(path) });
        } catch {
          value = null; // Node parses it its own way: leave it as it is
        }
      }
      facts.set(path, value);
    }
    return facts.get(path)!;
  };
  const modeOf = (path: string): 'r' | 'i' => (byPath.get(path)?.format === 'module' ? 'i' : 'r');
  // An ES module's require() (createRequire) was recorded as a require: asked the other way when its own way has no answer.
  const target = (from: string, specifier: string): string | undefined =>
    isBuiltin(specifier) ? `builtin:${specifier}` : (input.resolve(dirname(from), specifier, modeOf(from)) ?? input.resolve(dirname(from), specifier, modeOf(from) === 'i' ? 'r' : 'i'));
  // Builtins load with no effect a program sees, but for the deprecated ones, which warn when loaded.
  // Builtins that print a warning when first loaded (deprecated, or experimental: wasi, sqlite,
  // ffi), which loading later would move in stderr, and those that change process state when
  // loaded: domain (EventEmitter.usingDomains, the uncaught-exception capture) and repl (loads it).
  const quietBuiltin = (to: string): boolean => !/^builtin:(?:node:)?(?:punycode|sys|wasi|sqlite|ffi|domain|repl|_.*)$/.test(to);

  /** What a module loads while it evaluates, as paths (builtins apart). */
  const children = (path: string): string[] => {
    const f = factsOf(path);
    if (f === null) return [];
    const out: string[] = [];
    for (const specifier of f.eagerRequires) {
      const to = target(path, specifier);
      if (to !== undefined && !to.startsWith('builtin:')) out.push(to);
    }
    return out;
  };

  /**
   * What a module loads while it evaluates through loads that are no candidate, and so stay as
   * written whatever is deferred elsewhere (paths, builtins apart). A bare import counts: it is
   * dropped only when nothing it loads has an effect, or when all of that was loaded before.
   */
  const fixedChildren = (path: string, unconditional = false): string[] => {
    const f = factsOf(path);
    if (f === null) return [];
    const remaining = f.eagerRequires.map((specifier, i) => ({ specifier, conditional: f.eagerRequireConditional[i] === true }));
    for (const site of f.candidates) {
      if (site.alias !== undefined) continue; // makes no require call of its own
      const at = remaining.findIndex((load) => load.specifier === site.specifier);
      if (at !== -1) remaining.splice(at, 1);
    }
    const out: string[] = [];
    for (const load of remaining) {
      if (unconditional && load.conditional) continue;
      const to = target(path, load.specifier);
      if (to !== undefined && !to.startsWith('builtin:')) out.push(to);
    }
    return out;
  };
  const closure = (starts: readonly string[], next: (path: string) => string[]): Set<string> => {
    const set = new Set<string>();
    const queue = [...starts];
    while (queue.length > 0) {
      const at = queue.pop()!;
      if (set.has(at)) continue;
      set.add(at);
      queue.push(...next(at));
    }
    return set;
  };

  // A module whose loading has effects beyond its exports, itself or through what it loads,
  // that would move if `importer` loaded it later: modules the recorded runs had loaded before
  // the importer began are already in the cache then, their effects done. Only those the entries
  // load through loads that stay as written: one loaded earlier by a branch the recorded
  // arguments took (`if (warm) await import("./warm.mjs")`) may not be loaded at all in another run.
  // Per recorded program, through loads that run on every load (`if (warm) require("./warm")`
  // does not), and held by every program: one program's sure load is not another's.
  const perEntry = (input.entries ?? []).map((entry) => closure([entry], (path) => fixedChildren(path, true)));
  const always = new Set([...(perEntry[0] ?? [])].filter((path) => perEntry.every((set) => set.has(path))));
  const loadedBefore = input.loadedBefore;
  const before = loadedBefore === undefined ? () => false : (a: string, b: string): boolean => always.has(a) && loadedBefore(a, b);
  // Process state the program changes, by any code of a module it loaded or in a recorded run,
  // and which modules change it: a module that reads it as it loads keeps its place, as an effect
  // does, when a module outside what loads with it changes it (a deferred load may come after
  // the change). What loads with it cannot change it earlier: its code runs after it loads. A
  // change made only by a module no recorded run loaded is not seen.
  const stateWriters = new Map<ProcessState, Set<string>>();
  const wrote = (kind: ProcessState, path: string): void => {
    const set = stateWriters.get(kind) ?? new Set<string>();
    set.add(path);
    stateWriters.set(kind, set);
  };
  for (const m of input.modules) for (const kind of factsOf(m.path)?.stateChanges ?? []) wrote(kind, m.path);
  // A writer the runs saw whose code names no variable it changes (`const env = process.env; env.X = 1`).
  for (const writer of input.envChangedBy ?? []) {
    if (!(factsOf(writer)?.stateChanges ?? []).some((kind) => kind.startsWith('env:'))) wrote('env:*', writer === '*' ? 'a file the recorded runs did not name' : writer);
  }
  const stateName = (kind: ProcessState): string => (kind === 'argv' ? 'process.argv' : kind === 'cwd' ? 'process.cwd()' : kind === 'env:*' ? 'process.env' : `process.env.${kind.slice(4)}`);
  /** A read of process state by `path` as it loads that a module outside `inside()` changes. */
  const stateEffect = (path: string, inside: () => Set<string>): string | undefined => {
    for (const read of factsOf(path)?.stateReads ?? []) {
      for (const [kind, writers] of stateWriters) {
        if (!stateConflict(read, new Set([kind]))) continue;
        for (const writer of writers) if (!inside().has(writer)) return `reads ${stateName(read)} while it loads, which ${writer} changes`;
      }
    }
    return undefined;
  };
  const ownEffect = (path: string): string | undefined => {
    const m = byPath.get(path);
    if (m === undefined) return 'not recorded';
    if (m.format === 'json') return undefined;
    if (m.format !== 'commonjs' && m.format !== 'module') return `has format ${m.format}`;
    const f = factsOf(path);
    if (f === null) return 'does not parse';
    // A deferred load is a synchronous require(esm), which an awaiting module refuses.
    if (f.topLevelAwait) return 'awaits at top level';
    if (f.sideEffect !== undefined) return f.sideEffect;
    // A builtin that warns or changes process state when first loaded, loaded as it evaluates.
    const loud = f.eagerRequires.find((specifier) => isBuiltin(specifier) && !quietBuiltin(`builtin:${specifier}`));
    return loud === undefined ? undefined : `loads ${loud}, which warns or changes process state when loaded`;
  };
  /**
   * Modules the importer loads while it evaluates whatever is deferred: the closure of its
   * requires that are not candidates. An effect among them happens during the importer's
   * evaluation either way (`debug`, which eslint's cli.js requires at its last line).
   */
  const ensuredMemo = new Map<string, Set<string>>();
  const ensured = (importer: string): Set<string> => {
    let set = ensuredMemo.get(importer);
    if (set === undefined) {
      // Through loads that stay as written at every level: a candidate further down may wait.
      set = closure(fixedChildren(importer), fixedChildren);
      ensuredMemo.set(importer, set);
    }
    return set;
  };
  // `strict`: effects the importer causes anyway count too (a bare import only orders them).
  const effectOf = (path: string, importer: string, strict = false): string | undefined => {
    const seen = new Set<string>();
    const done = strict ? new Set<string>() : ensured(importer);
    const skipped = (at: string): boolean => before(at, importer) || (at !== path && done.has(at));
    // What loads with `path` when it waits: the modules the walk below reaches.
    let reached: Set<string> | undefined;
    const inside = (): Set<string> => {
      if (reached === undefined) {
        reached = new Set<string>();
        const queue = [path];
        while (queue.length > 0) {
          const at = queue.pop()!;
          if (reached.has(at) || skipped(at)) continue;
          reached.add(at);
          queue.push(...children(at));
        }
      }
      return reached;
    };
    const visit = (at: string): string | undefined => {
      if (seen.has(at) || skipped(at)) return undefined;
      seen.add(at);
      const own = ownEffect(at) ?? stateEffect(at, inside);
      if (own !== undefined) return at === path ? own : `loads ${at} which ${own}`;
      for (const child of children(at)) {
        const inner = visit(child);
        if (inner !== undefined) return inner;
      }
      return undefined;
    };
    return visit(path);
  };

  // Modules in an import cycle (Tarjan's strongly connected components over what each loads as
  // it evaluates). Which module of a cycle evaluates first is decided by where the cycle is
  // entered: deferring a load into one lets another path enter it first, and a class that
  // extends a binding of the other then meets it uninitialised.
  const inCycle = new Set<string>();
  {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    let counter = 0;
    for (const m of input.modules) {
      if (index.has(m.path)) continue;
      // Iterative, as a long require chain would overflow a recursive one.
      const frames: { at: string; next: string[]; i: number }[] = [];
      const open = (at: string): void => {
        index.set(at, counter);
        low.set(at, counter++);
        stack.push(at);
        onStack.add(at);
        frames.push({ at, next: children(at), i: 0 });
      };
      open(m.path);
      while (frames.length > 0) {
        const frame = frames[frames.length - 1]!;
        if (frame.i < frame.next.length) {
          const child = frame.next[frame.i++]!;
          if (!index.has(child)) open(child);
          else if (onStack.has(child)) low.set(frame.at, Math.min(low.get(frame.at)!, index.get(child)!));
          continue;
        }
        frames.pop();
        const parent = frames[frames.length - 1];
        if (parent !== undefined) low.set(parent.at, Math.min(low.get(parent.at)!, low.get(frame.at)!));
        if (low.get(frame.at) === index.get(frame.at)) {
          const component: string[] = [];
          let popped: string;
          do {
            popped = stack.pop()!;
            onStack.delete(popped);
            component.push(popped);
          } while (popped !== frame.at);
          if (component.length > 1) for (const at of component) inCycle.add(at);
        }
      }
    }
  }
  const cycleMemo = new Map<string, string | undefined>();
  /** A module of an import cycle that loading `to` evaluates, if any. */
  const reachesCycle = (to: string): string | undefined => {
    if (!cycleMemo.has(to)) {
      let found: string | undefined;
      for (const at of closure([to], children)) {
        if (inCycle.has(at)) {
          found = at;
          break;
        }
      }
      cycleMemo.set(to, found);
    }
    return cycleMemo.get(to);
  };

  // The modules import()s name: require(esm) of one that a pending import() is still loading,
  // itself or through the imports that stay as written, throws ERR_REQUIRE_ESM_RACE_CONDITION,
  // where the static import had it ready (checked with the final rewrites, below).
  const named: string[] = [];
  for (const m of input.modules) {
    for (const specifier of factsOf(m.path)?.dynamicImports ?? []) {
      const to = isBuiltin(specifier) ? undefined : input.resolve(dirname(m.path), specifier, 'i');
      if (to !== undefined) named.push(to);
    }
  }

  // ES modules for which require() gives another object than the namespace: one that exports a
  // name `module.exports`, or re-exports all of a module that does (Node 23+ gives every CommonJS
  // namespace that name, and `export *` passes it on). A stand-in reads its names from what require() gives.
  // Also those that export a name `then`, which a deferred namespace leaves out (the `import
  // defer` proposal's rule, for a namespace that must not look like a promise).
  const starMemo = new Map<string, string | undefined>();
  const namespaceUnlike = (path: string): string | undefined => {
    if (starMemo.has(path)) return starMemo.get(path);
    starMemo.set(path, undefined);
    const format = byPath.get(path)?.format;
    const f = factsOf(path);
    let found: string | undefined = format === 'commonjs' ? 'passes on a CommonJS module.exports' : undefined;
    if (format === 'module' && f !== null) {
      if (f.namesModuleExports) found = 'exports a name module.exports';
      else if (f.namesThen) found = 'exports a name then';
      for (const specifier of f.exportStars) {
        if (found !== undefined) break;
        const to = target(path, specifier);
        found = to === undefined || to.startsWith('builtin:') ? `re-exports all of ${specifier}` : namespaceUnlike(to);
      }
    } else if (format !== 'commonjs') found = format === undefined ? 'is not recorded' : undefined;
    starMemo.set(path, found);
    return found;
  };

  /** Whether loading `from` comes back to `to`: deferral would change which partial exports a cycle sees. */
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const queue = [from];
    while (queue.length > 0) {
      const at = queue.pop()!;
      if (at === to) return true;
      if (seen.has(at)) continue;
      seen.add(at);
      queue.push(...children(at));
    }
    return false;
  };

  /**
   * The first effect among what `path` loads as it evaluates after `site` (a bare import, or a
   * candidate whose effects another load of `path` makes anyway): deferred, `site`'s effects
   * would happen after those instead of before them.
   */
  const laterEffect = (path: string, site: DeferSite): string | undefined => {
    const f = factsOf(path)!;
    for (let i = 0; i < f.eagerRequires.length; i++) {
      if (f.eagerRequireStarts[i]! <= site.start) continue;
      const to = target(path, f.eagerRequires[i]!);
      if (to === undefined || to.startsWith('builtin:')) continue;
      const found = effectOf(to, path, true);
      if (found !== undefined) return `${to} ${found}`;
    }
    return undefined;
  };

  /** Whether `to` is loaded, as written, through an import of `path` that is not a bare one. */
  const reachedOtherwise = (path: string, to: string): boolean => {
    const f = factsOf(path)!;
    // Every bare import is left out: two of the same module are not each other's other path.
    const others = [...f.eagerRequires];
    for (const bare of f.bareImports) others.splice(others.indexOf(bare.specifier), 1);
    const seen = new Set<string>();
    const queue = others.map((specifier) => target(path, specifier)).filter((at): at is string => at !== undefined && !at.startsWith('builtin:'));
    while (queue.length > 0) {
      const at = queue.pop()!;
      if (at === to) return true;
      if (seen.has(at) || at === path) continue;
      seen.add(at);
      queue.push(...children(at));
    }
    return false;
  };

  // Modules whose exports may change after they load: by their own functions, or by a module
  // that writes into them. A declaration that keeps a value read from them must read it at load.
  const changing = new Set<string>();
  const replacing = new Set<string>();
  const computing = new Set<string>();
  for (const m of input.modules) {
    const f = factsOf(m.path);
    if (f === null) continue;
    if (f.exportsChangeLater) changing.add(m.path);
    if (f.replacesExportsLater) replacing.add(m.path);
    if (f.computedExports) computing.add(m.path);
    for (const specifier of f.writesInto) {
      const to = target(m.path, specifier);
      if (to !== undefined) changing.add(to);
    }
  }
  // Exports whose getters pass on another module's (TypeScript's re-exports) change when that one's do.
  for (let grew = true; grew; ) {
    grew = false;
    for (const m of input.modules) {
      const f = factsOf(m.path);
      if (f === null || changing.has(m.path)) continue;
      if (f.reexportGetters.some((specifier) => changing.has(target(m.path, specifier) ?? ''))) {
        changing.add(m.path);
        grew = true;
      }
    }
  }

  const rewritten = new Map<string, { source: Buffer; deferred: string[]; targets: string[] }>();
  const refused = new Map<string, number>();
  const refusals: Learned['refusals'] = [];
  let current = { module: '', specifier: '' };
  const refuse = (reason: string, detail = reason): void => {
    refused.set(reason, (refused.get(reason) ?? 0) + 1);
    refusals.push({ ...current, reason: detail });
  };
  let analyzed = 0;
  const acceptedOf = new Map<string, Set<DeferSite>>();
  for (const m of input.modules) {
    if (m.format !== 'commonjs' && m.format !== 'module') continue;
    const f = factsOf(m.path);
    if (f === null) continue;
    analyzed++;
    if (input.keepEager?.(m.path) === true) continue;
    const accepted = new Set<DeferSite>();
    for (const site of f.candidates) {
      current = { module: m.path, specifier: site.specifier };
      const to = target(m.path, site.specifier);
      if (to === undefined) refuse('target not recorded');
      // require() gives whichever object module.exports is when it runs: at first use, a later one.
      else if (replacing.has(to)) refuse('replaces its module.exports after load');
      // A getter among the exports runs when the value is read: at first use, not at load.
      else if ((keepsValue(site) || (m.format === 'module' && site.builtin !== true && [...site.locals.values()].some((name) => name !== 'default') && byPath.get(to)?.format === 'commonjs')) && computing.has(to)) refuse('keeps a value a getter of its exports computes');
      // The importer then changes what a module may read as it loads (process.env, argv, the cwd,
      // frozen builtins): loaded later, the target would see the change. An ES module's imports
      // all evaluate before its body.
      else if (!to.startsWith('builtin:') && f.stateWrites.some((at) => m.format === 'module' || at > site.start)) refuse('the importer changes process state after it while it loads');
      // An ES module's named import of CommonJS holds the value Node took when the module had run;
      // a stand-in takes it at first use. (Namespaces are accepted: docs/decisions/learned-deferral.md.)
      else if ((keepsValue(site) || (m.format === 'module' && site.builtin !== true && [...site.locals.values()].some((name) => name !== 'default') && byPath.get(to)?.format === 'commonjs')) && changing.has(to)) {
        refuse('keeps a value from exports that change after load');
      }
      else if (to.startsWith('builtin:')) {
        // An ES module's named or namespace import of a builtin stays: its values are those of
        // Node's facade, made when the import loads. A default import is the exports object itself.
        if (m.format === 'module' && site.builtin !== true) refuse('a builtin imported by name or namespace by an ES module');
        else if (quietBuiltin(to)) accepted.add(site);
        else refuse('a builtin that warns or changes process state when loaded');
      } else if (m.format === 'commonjs' && byPath.get(to)?.format === 'module') refuse('an ES module required by CommonJS');
      else if (input.keepEager?.(to) === true) refuse('kept eager by configuration');
      else if (effectOf(to, m.path) !== undefined) refuse('target has effects when loaded', `${to} ${effectOf(to, m.path)}`);
      // Its effects happen while the importer evaluates anyway, through another of its loads:
      // in the same place only when no other effect comes between.
      else if (effectOf(to, m.path, true) !== undefined && ((m.format === 'commonjs' && f.sideEffect !== undefined) || laterEffect(m.path, site) !== undefined)) {
        refuse('target has effects that would move past others', `${to} ${effectOf(to, m.path, true)}, ${m.format === 'commonjs' && f.sideEffect !== undefined ? `and the importer ${f.sideEffect}` : `before ${laterEffect(m.path, site)}`}`);
      }
      else if (reaches(to, m.path)) refuse('cycle back to the importer');
      else if (reachesCycle(to) !== undefined) refuse('target is in or loads an import cycle', `${to} loads ${reachesCycle(to)}, which is in an import cycle`);
      else if (byPath.get(to)?.format === 'module' && m.format === 'module' && site.builtin !== true && namespaceUnlike(to) !== undefined) refuse('an ES module whose namespace a stand-in cannot give', `${to} ${namespaceUnlike(to)}`);
      else accepted.add(site);
    }
    // A bare import orders evaluation (a bundler hoists one for each module its chunks load); it
    // is dropped when its module, and all that loads, has no effect, and another import of the
    // file reaches it: that import decides when it loads.
    for (const site of f.bareImports) {
      current = { module: m.path, specifier: site.specifier };
      const to = target(m.path, site.specifier);
      if (to === undefined || to.startsWith('builtin:')) continue;
      if (input.keepEager?.(to) === true) refuse('kept eager by configuration');
      else if (!reachedOtherwise(m.path, to)) refuse('an import kept only for its effects');
      else if (effectOf(to, m.path, true) !== undefined) refuse('target has effects when loaded', `${to} ${effectOf(to, m.path, true)}`);
      else if (laterEffect(m.path, site) !== undefined) refuse('a later import has effects when loaded', laterEffect(m.path, site));
      else if (reaches(to, m.path)) refuse('cycle back to the importer');
      else if (reachesCycle(to) !== undefined) refuse('target is in or loads an import cycle', `${to} loads ${reachesCycle(to)}, which is in an import cycle`);
      else accepted.add(site);
    }
    for (const site of settleAliases(f.candidates, accepted)) {
      current = { module: m.path, specifier: site.specifier };
      refuse(site.alias === undefined ? 'an alias of it loads at once' : 'aliases a require that loads at once');
    }
    if (accepted.size > 0) acceptedOf.set(m.path, accepted);
  }

  // A candidate whose target the importer loads anyway while it evaluates, through a load that
  // stays eager (its own, or one in what those load, after their own rewrites), gains nothing:
  // the target is evaluated at once either way, and the stand-in is pure cost. Each refusal makes
  // a load eager, which can load more, so this runs until nothing changes.
  const loadsNow = (path: string, original = false): string[] => {
    const f = factsOf(path);
    if (f === null) return [];
    const remaining = [...f.eagerRequires];
    for (const site of original ? [] : (acceptedOf.get(path) ?? [])) {
      if (site.alias !== undefined) continue;
      const at = remaining.indexOf(site.specifier);
      if (at !== -1) remaining.splice(at, 1);
    }
    const out: string[] = [];
    for (const specifier of remaining) {
      const to = target(path, specifier);
      if (to !== undefined) out.push(to);
    }
    return out;
  };
  for (let changed = true; changed; ) {
    changed = false;
    // What the import()s load as written once rewritten: a load kept eager (refused, or its
    // importer kept as it is) is part of that load too.
    const importLoads = closure(named, (at) => loadsNow(at).filter((to) => !to.startsWith('builtin:')));
    for (const [path, accepted] of acceptedOf) {
      if (byPath.get(path)?.format === 'module') {
        for (const site of accepted) {
          const to = target(path, site.specifier);
          if (to === undefined || site.builtin === true || byPath.get(to)?.format !== 'module' || !importLoads.has(to)) continue;
          accepted.delete(site);
          current = { module: path, specifier: site.specifier };
          refuse('an ES module an import() loads too');
          changed = true;
        }
      }
      const loaded = new Set<string>();
      const queue = loadsNow(path);
      while (queue.length > 0) {
        const at = queue.pop()!;
        if (loaded.has(at)) continue;
        loaded.add(at);
        if (!at.startsWith('builtin:')) queue.push(...loadsNow(at));
      }
      for (const site of accepted) {
        const to = target(path, site.specifier);
        if (to === undefined || !loaded.has(to)) continue;
        accepted.delete(site);
        current = { module: path, specifier: site.specifier };
        refuse('loaded anyway while the importer evaluates');
        changed = true;
      }
      settleAliases(factsOf(path)?.candidates ?? [], accepted);
    }
  }

  for (const m of input.modules) {
    const accepted = acceptedOf.get(m.path);
    if (accepted === undefined || accepted.size === 0) continue;
    const source = lowerLearned(m.bytes.toString('utf8'), factsOf(m.path)!, accepted);
    const own = [...accepted].filter((site) => site.alias === undefined);
    const targets = [...new Set(own.map((site) => target(m.path, site.specifier)).filter((to): to is string => to !== undefined && !to.startsWith('builtin:')))];
    if (source !== undefined) rewritten.set(m.path, { source: Buffer.from(source), deferred: own.map((site) => site.specifier), targets });
  }
  return { rewritten, refused, refusals, analyzed, eagerLoads: (path, original) => loadsNow(path, original).filter((to) => !to.startsWith('builtin:')) };
}
