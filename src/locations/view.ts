// The ResolutionView over a loaded index: answers isFile / isDirectory / packageJson /
// realpath from data only. Package sections are parsed the first time a run looks inside
// them and, when verifying, their root directory is stat'ed once to notice a changed package.
import { readdirSync, } from 'node:fs';
import { join, posix, relative } from 'node:path';
import type { PackageFacts, ResolutionView } from '../resolve/view.js';
import { debug } from '../debug.js';
import { decodeSection, type DecodedIndex, type Section, type StoredFacts } from './format.js';
import { inRootModules, placeIn, placeOf, projectNames, type Place } from './paths.js';
import { readFacts } from '../package-meaning.js';
import { folderStat } from './stamps.js';
import { statOrUndefined } from '../stat.js';

type Kind = 'file' | 'dir' | 'none' | undefined;

/** A directory's entries: `f` file, `d` directory, `u` unknown. `partial` lists only some. */
interface Listing {
  readonly entries: Map<string, 'f' | 'd' | 'u'>;
  readonly partial: boolean;
}

export interface IndexViewOptions {
  /** Stat each package root the first time it is used and ignore it when it changed. */
  readonly verify?: boolean;
  /** The directories require() searches after node_modules (Module.globalPaths: NODE_PATH,
   *  then Node's global folders). Defaults to the index's NODE_PATH entries. */
  readonly globalPaths?: readonly string[];
  /** Called once, the first time the header or a section fails its checksum. */
  readonly onCorrupt?: () => void;
}

export interface ViewStats {
  sectionsLoaded: number;
  /** Package roots found changed since the build (answers about them fell through). */
  readonly changed: string[];
  /** Sections whose bytes did not parse. */
  readonly corrupt: string[];
}

function toListing(names: readonly string[], partial: boolean): Listing {
  const entries = new Map<string, 'f' | 'd' | 'u'>();
  for (const name of names) {
    const last = name.charCodeAt(name.length - 1);
    if (last === 47 /* / */) entries.set(name.slice(0, -1), 'd');
    else if (last === 64 /* @ */) entries.set(name.slice(0, -1), 'u');
    else entries.set(name, 'f');
  }
  return { entries, partial };
}

/** What a project folder may hold that changes where a bare or `#` lookup goes (`@`: a link). */
const RESOLUTION_NAMES = ['node_modules/', 'node_modules@', 'package.json', 'package.json@'];

export class IndexView implements ResolutionView {
  readonly root: string;
  readonly nodePath: readonly string[];
  readonly stats: ViewStats = { sectionsLoaded: 0, changed: [], corrupt: [] };
  readonly #index: DecodedIndex;
  readonly #prefix: string;
  readonly #verify: boolean;
  readonly #outside: boolean;
  #onCorrupt: (() => void) | undefined;
  readonly #sections = new Map<string, Section | null>();
  /** Package roots checked against their build-time stamp in this run (verify mode). */
  readonly #unchanged = new Map<string, boolean>();
  readonly #listings = new Map<string, Listing | 'none' | undefined>();
  readonly #facts = new Map<string, PackageFacts | null | undefined>();
  #project: Section | null | undefined;
  readonly #absent: readonly string[];

  constructor(index: DecodedIndex, root: string, options: IndexViewOptions = {}) {
    this.#index = index;
    this.root = root;
    this.#prefix = root.endsWith('/') ? root : `${root}/`;
    this.#verify = options.verify ?? true;
    this.#onCorrupt = options.onCorrupt;
    const header = index.header;
    this.nodePath = options.globalPaths ?? header.nodePath.map((rel) => this.#abs(rel));
    this.#absent = header.absent ?? [];
    this.#outside = [...header.extraRoots, ...header.nodePath].some((rel) => rel.startsWith('..'));
  }

  /** Installed packages whose ES modules use `import defer` (empty for an index that did not look). */
  get deferUsers(): readonly string[] {
    return this.#index.header.deferUsers ?? [];
  }

  /**
   * The header's checksum, checked before the first answer: a header whose bytes changed in
   * place answers nothing (every question goes to Node) and the file goes, to be built anew.
   */
  #intact(): boolean {
    if (this.#headerOk === undefined) {
      this.#headerOk = this.#index.headerIntact();
      if (!this.#headerOk) {
        this.stats.corrupt.push('(header)');
        debug('index', 'the header fails its checksum; asking Node about everything');
        this.#corrupt();
      }
    }
    return this.#headerOk;
  }

  #headerOk: boolean | undefined;

  isFile(path: string): boolean | undefined {
    if (!this.#intact()) return undefined;
    const kind = this.#kindOfAbs(path);
    return kind === undefined ? undefined : kind === 'file';
  }

  /**
   * isFile from what is already decoded: undefined where answering would decode a package or
   * project section. For lookups that are cheaper to try on disk than to decode a section for
   * (the defer configuration's few probes; docs/decisions/startup-costs.md#index-small-probes).
   */
  isFileIfDecoded(path: string): boolean | undefined {
    this.#peeking = true;
    try {
      return this.isFile(path);
    } finally {
      this.#peeking = false;
    }
  }

  #peeking = false;

  /**
   * Whether the index lists the files of `dir`: false for first-party directories (the project's
   * listings hold only directories, package.json and node_modules) and outside the index, where
   * no file lookup can be answered and the resolve hook asks Node at once.
   */
  knowsFilesIn(dir: string): boolean {
    if (!this.#intact()) return false;
    const rel = this.#rel(dir);
    if (rel === undefined) return false;
    return this.#place(this.#canonical(rel)).kind !== 'project';
  }

  isDirectory(path: string): boolean | undefined {
    if (!this.#intact()) return undefined;
    const kind = this.#kindOfAbs(path);
    return kind === undefined ? undefined : kind === 'dir';
  }

  realpath(path: string): string | undefined {
    if (!this.#intact()) return undefined;
    const rel = this.#rel(path);
    if (rel === undefined) return undefined;
    const real = this.#canonical(rel);
    const kind = this.#kind(real);
    return kind === 'file' || kind === 'dir' ? this.#abs(real) : undefined;
  }

  packageJson(dir: string): PackageFacts | null | undefined {
    if (!this.#intact()) return undefined;
    const rel = this.#rel(dir);
    if (rel === undefined) {
      const above = this.#index.header.ancestors?.[dir];
      if (above !== undefined) return above === null ? null : this.#toFacts(dir, above, true);
      return this.#inAbsent(dir) ? null : undefined;
    }
    const real = this.#canonical(rel);
    if (this.#facts.has(real)) return this.#facts.get(real);
    let answer: PackageFacts | null | undefined;
    const kind = this.#kind(real === '' ? 'package.json' : `${real}/package.json`);
    if (kind === 'none') answer = null;
    else if (kind === 'file') {
      const place = this.#place(real);
      let stored: StoredFacts | 0 | undefined;
      if (place.kind === 'package') stored = this.#section(place.key)?.p[place.sub];
      else if (place.kind === 'project') stored = this.#projectFacts(real);
      answer = stored === undefined ? undefined : this.#toFacts(real, stored);
    }
    this.#facts.set(real, answer);
    return answer;
  }

  #toFacts(rel: string, stored: StoredFacts | 0, absolute = false): PackageFacts {
    const dir = absolute ? rel : this.#abs(rel);
    if (stored === 0) return { dir, name: undefined, main: undefined, exports: undefined, imports: undefined, type: undefined, malformed: true };
    return { dir, name: stored.name, main: stored.main, exports: stored.exports, imports: stored.imports, type: stored.type };
  }

  /** Root-relative form of an absolute path, or undefined outside what the index covers. */
  #rel(path: string): string | undefined {
    let rel: string;
    if (path === this.root) rel = '';
    else if (path.startsWith(this.#prefix)) rel = path.slice(this.#prefix.length);
    else if (this.#outside && path.startsWith('/')) rel = relative(this.root, path);
    else return undefined;
    // The resolver hands normalised paths; anything else is normalised rather than misread.
    if (rel.endsWith('/') || rel.includes('//') || rel.includes('/.') || rel.startsWith('.')) {
      rel = posix.normalize(rel);
      if (rel === '.') rel = '';
      if (rel.endsWith('/')) rel = rel.slice(0, -1);
      if (rel.startsWith('..') && !this.#outside) return undefined;
    }
    return rel;
  }

  #abs(rel: string): string {
    if (rel === '') return this.root;
    return rel.startsWith('..') ? join(this.root, rel) : this.#prefix + rel;
  }

  #kindOfAbs(path: string): Kind {
    const rel = this.#rel(path);
    if (rel === undefined) return this.#inAbsent(path) ? 'none' : undefined;
    return this.#kind(this.#canonical(rel));
  }

  /** Inside a global folder that did not exist at build time. */
  #inAbsent(path: string): boolean {
    for (const dir of this.#absent) {
      if (path === dir || (path.startsWith(dir) && path.charCodeAt(dir.length) === 47)) return true;
    }
    return false;
  }

  /** Follows symlinked package entries (pnpm, workspaces, npm link) to their real location. */
  #canonical(rel: string): string {
    const links = this.#index.header.links;
    for (let hops = 0; hops < 16; hops++) {
      const place = this.#place(rel);
      if (place.kind !== 'package') return rel;
      const target = links[place.key];
      if (target === undefined) return rel;
      rel = place.sub === '' ? target : `${target}/${place.sub}`;
    }
    return rel;
  }

  #place(rel: string): Place | { readonly kind: 'project' } {
    const inModules = placeOf(rel);
    if (inModules !== undefined) return inModules;
    // Linked folders outside node_modules (header.extraRoots) are first-party code, as the
    // project's own: their files are not listed, so questions about them go to Node; those
    // inside the root are project folders (their directories listed and checked as such).
    for (const dir of this.#index.header.nodePath) {
      if (rel === dir) return { kind: 'modules', dir };
      if (rel.startsWith(dir) && rel.charCodeAt(dir.length) === 47) return placeIn(dir, rel.slice(dir.length + 1));
    }
    return { kind: 'project' };
  }

  #kind(rel: string): Kind {
    if (rel === '') return 'dir';
    const slash = rel.lastIndexOf('/');
    const parent = slash === -1 ? '' : rel.slice(0, slash);
    const name = slash === -1 ? rel : rel.slice(slash + 1);
    const listing = this.#listing(parent);
    if (listing === 'none') return 'none';
    if (listing === undefined) return undefined;
    const entry = listing.entries.get(name);
    if (entry === 'f') return 'file';
    if (entry === 'd') return 'dir';
    if (entry === 'u') return undefined;
    if (!listing.partial) return 'none';
    // The project's listings hold only directories, package.json and node_modules.
    return name === 'package.json' || name === 'node_modules' ? 'none' : undefined;
  }

  #listing(dir: string): Listing | 'none' | undefined {
    if (this.#listings.has(dir)) return this.#listings.get(dir);
    let listing: Listing | 'none' | undefined;
    const place = this.#place(dir);
    let names: string[] | undefined;
    let partial = false;
    let known = true;
    if (place.kind === 'modules') {
      names = this.#index.header.nodeModules[place.dir];
      // One below a project folder is checked as a project folder is: a package added there.
      if (names !== undefined && this.#verify && !inRootModules(place.dir)) {
        if (this.#peeking && this.#project === undefined) return undefined;
        if (!this.#modulesDirHolds(place.dir)) return this.#keep(dir, undefined);
      }
    }
    else if (place.kind === 'package') {
      const hasSection = this.#index.header.sections[place.key] !== undefined;
      if (hasSection && this.#peeking && !this.#sections.has(place.key)) return undefined;
      const section = hasSection ? this.#section(place.key) : undefined;
      if (hasSection && section === null) known = false;
      names = section?.d[place.sub];
    } else {
      if (this.#peeking && this.#project === undefined) return undefined;
      const project = this.#projectSection();
      if (project === null) known = false;
      names = project?.d[dir];
      if (names !== undefined && dir !== '') {
        const now = this.#projectNow(dir, names);
        if (now === null) return this.#keep(dir, 'none');
        if (now === undefined) return this.#keep(dir, undefined);
        names = now;
      }
      partial = true;
    }
    if (names !== undefined) listing = toListing(names, partial);
    else if (!known) listing = undefined;
    else {
      // Not listed: either it does not exist (its parent says so) or the index never read it.
      const kind = dir === '' ? 'dir' : this.#kind(dir);
      listing = kind === 'none' || kind === 'file' ? 'none' : undefined;
    }
    return this.#keep(dir, listing);
  }

  #keep(dir: string, listing: Listing | 'none' | undefined): Listing | 'none' | undefined {
    // A peek may have stopped short of a section: only full answers are kept.
    if (!this.#peeking) this.#listings.set(dir, listing);
    return listing;
  }

  /**
   * A first-party directory's names as they are now (verify mode): the built ones while its
   * change time holds, else listed again (an entry was added, removed or renamed: a node_modules or
   * package.json may have come or gone), null when it is gone. One stat per directory a run
   * asks about, and a readdir only where the mtime moved.
   */
  #projectNow(dir: string, built: string[]): string[] | null | undefined {
    if (!this.#verify) return built;
    if (this.#dirsNow.has(dir)) return this.#dirsNow.get(dir);
    let now: string[] | null | undefined;
    const abs = this.#abs(dir);
    const st = folderStat(abs);
    if (st === undefined || !st.isDirectory()) now = null;
    else if (st.ctimeMs === this.#projectSection()?.m?.[dir]) now = built;
    else {
      try {
        now = projectNames(readdirSync(abs, { withFileTypes: true }));
      } catch {
        // There but not readable (a folder Node may still pass through): Node's to answer.
        now = undefined;
      }
      debug('index', `${dir} changed since the index was built; its entries are read again`);
    }
    this.#dirsNow.set(dir, now);
    return now;
  }

  /** undefined: unknown (not readable now). */
  readonly #dirsNow = new Map<string, string[] | null | undefined>();

  /**
   * Whether a node_modules (or scope) directory is as built, for those the stamps do not watch
   * (below a project folder: their change time was kept). One stat per run; one that moved is
   * Node's to answer for the run.
   */
  #modulesDirHolds(dir: string): boolean {
    if (!this.#verify || inRootModules(dir)) return true;
    let holds = this.#modulesNow.get(dir);
    if (holds === undefined) {
      const built = this.#projectSection()?.m?.[dir];
      if (built === undefined) holds = true;
      else {
        const st = folderStat(this.#abs(dir));
        holds = st !== undefined && (st.ctimeMs === built || this.#samePackages(dir));
        if (!holds) debug('index', `${dir} changed since the index was built; asking Node about it`);
      }
      this.#modulesNow.set(dir, holds);
    }
    return holds;
  }

  readonly #modulesNow = new Map<string, boolean>();

  /**
   * Whether a node_modules (or scope) folder whose change time moved still holds the entries
   * that may be packages it held at build time: a tool's cache folder (`.vite`, `.cache`) come
   * or gone leaves it in use, as it leaves the root's (one readdir). A package replaced under its
   * name is its section's check.
   */
  #samePackages(dir: string): boolean {
    const packages = (names: readonly string[]): string =>
      names
        .map((name) => (name.endsWith('/') || name.endsWith('@') ? name.slice(0, -1) : name))
        .filter((name) => !name.startsWith('.'))
        .sort()
        .join('\0');
    try {
      return packages(readdirSync(this.#abs(dir))) === packages(this.#index.header.nodeModules[dir] ?? []);
    } catch {
      return false;
    }
  }

  /**
   * Whether what a lookup from first-party directory `rel` read on the way up is as built: in
   * each directory to the root, whether it holds a node_modules and a package.json, and that
   * package.json unchanged (the root's are stamps). An answer learned from there holds while
   * this does.
   */
  #projectChainHolds(rel: string): boolean {
    const project = this.#projectSection();
    if (project === null) return false;
    for (let dir = rel; dir !== ''; dir = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '') {
      const built = project.d[dir];
      if (built === undefined) return false;
      const now = this.#projectNow(dir, built);
      if (now === null || now === undefined) return false;
      if (now !== built && RESOLUTION_NAMES.some((name) => now.includes(name) !== built.includes(name))) return false;
      if (built.includes('package.json') && this.#projectFacts(dir) === undefined) return false;
      // A package added to a node_modules there (or to a scope in it) would be found first.
      if (built.includes('node_modules/')) {
        const modules = `${dir}/node_modules`;
        if (!this.#modulesDirHolds(modules)) return false;
        for (const name of this.#index.header.nodeModules[modules] ?? []) if (name.startsWith('@') && name.endsWith('/') && !this.#modulesDirHolds(`${modules}/${name.slice(0, -1)}`)) return false;
      }
    }
    return true;
  }

  /**
   * Whether what a bare lookup from `rel` reads on its way up is as built, below the root's
   * node_modules (which the stamps watch): the folders of a sub-project's node_modules and the
   * packages in it (a package's own node_modules added), then the project folders above.
   */
  #lookupFromHolds(rel: string): boolean {
    for (let dir = rel; dir !== ''; dir = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '') {
      if (inRootModules(dir)) return true;
      const place = this.#place(dir);
      if (place.kind === 'project') return this.#projectChainHolds(dir);
      if (place.kind === 'modules' && !this.#modulesDirHolds(place.dir)) return false;
      if (place.kind === 'package' && place.sub === '') {
        const at = this.#index.header.sections[place.key];
        if (at !== undefined && !this.#packageUnchanged(place.key, at[2])) return false;
      }
    }
    return true;
  }

  /** A package section, parsed on first use; null when it is corrupt or changed on disk. */
  #section(key: string): Section | null {
    const cached = this.#sections.get(key);
    if (cached !== undefined) return cached;
    const at = this.#index.header.sections[key];
    let section: Section | null = null;
    if (at !== undefined) {
      if (!this.#packageUnchanged(key, at[2])) {
        this.#sections.set(key, null);
        return null;
      }
      section = decodeSection(this.#index, at) ?? null;
      if (section === null) {
        this.stats.corrupt.push(key);
        debug('index', `section ${key} is corrupt; asking Node about it`);
        this.#corrupt();
      } else this.stats.sectionsLoaded++;
    }
    this.#sections.set(key, section);
    return section;
  }

  /** Verify mode: one stat of a package root per run, compared with its build-time mtime. */
  #packageUnchanged(key: string, builtMtime: number): boolean {
    if (!this.#verify) return true;
    let unchanged = this.#unchanged.get(key);
    if (unchanged === undefined) {
      const st = statOrUndefined(this.#abs(key));
      unchanged = st !== undefined && st.mtimeMs === builtMtime;
      this.#unchanged.set(key, unchanged);
      if (!unchanged) {
        this.stats.changed.push(key);
        debug('index', `${key} changed since the index was built; asking Node about it`);
      }
    }
    return unchanged;
  }

  /**
   * Whether an answer ending in `path` may still be trusted: false when `path` lies in a
   * package that changed since the build, or when what the lookup read above `fromDir`, a
   * first-party directory, changed (verify mode). Used by the learned-answers table,
   * which must be exactly as safe as asking the view again.
   */
  answerStillValid(path: string, fromDir?: string): boolean {
    if (!this.#intact()) return false;
    if (fromDir !== undefined && this.#verify) {
      const from = this.#rel(fromDir);
      if (from !== undefined && from !== '' && !this.#lookupFromHolds(this.#canonical(from))) return false;
    }
    const rel = this.#rel(path);
    if (rel === undefined) return true;
    const place = placeOf(rel);
    if (place === undefined || place.kind !== 'package') return true;
    const at = this.#index.header.sections[place.key];
    return at === undefined || this.#packageUnchanged(place.key, at[2]);
  }

  /** A first-party package.json as built, or undefined when it may have been edited since. */
  #projectFacts(rel: string): StoredFacts | 0 | undefined {
    const project = this.#projectSection();
    const stored = project?.p[rel];
    // The root package.json is one of the index's stamps, checked at every start.
    if (stored === undefined || rel === '' || !this.#verify) return stored;
    let same = this.#factsSame.get(rel);
    if (same === undefined) {
      const built = project!.s?.[rel];
      const st = statOrUndefined(this.#abs(`${rel}/package.json`));
      same = built !== undefined && st !== undefined && st.mtimeMs === built[0] && st.size === built[1];
      // Rewritten (a version bump, an install in a sub-project): still used if it resolves the same.
      if (!same && st?.isFile() === true) {
        const now = readFacts(this.#abs(`${rel}/package.json`));
        same = JSON.stringify(now) === JSON.stringify(stored);
      }
      this.#factsSame.set(rel, same);
    }
    return same ? stored : undefined;
  }

  /** Nested package.json files checked in this run: one stat each. */
  readonly #factsSame = new Map<string, boolean>();

  #corrupt(): void {
    const report = this.#onCorrupt;
    this.#onCorrupt = undefined;
    report?.();
  }

  #projectSection(): Section | null {
    if (this.#project === undefined) {
      const at = this.#index.header.project;
      this.#project = at === null ? null : (decodeSection(this.#index, at, true) ?? null);
      if (this.#project === null && at !== null) {
        debug('index', 'project section is corrupt; asking Node about it');
        this.#corrupt();
      }
    }
    return this.#project;
  }
}
