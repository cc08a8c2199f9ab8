// What `coldstart/register` does at start-up: cheap checks of the environment, then each
// feature installs itself. Nothing here may throw: a broken activation must leave the program
// running as if coldstart were absent.
import { pathSetting } from './settings.js';
import { debug } from './debug.js';
import { installRecordsWriter } from './lazy/eager.js';
import { installDeferHooks } from './defer/provider.js';
import { prepareIndex } from './locations/open-at-start.js';
import { setKnownFiles } from './defer/config.js';
import { activatePack, activePack, packAbsent, packBeside, packStepsAside } from './pack/open-at-start.js';
import { learnSmallProgram, learnedStepsAside } from './step-aside-learn.js';
import { sharingStampStats } from './locations/stamps.js';
import { sharedState, type SharedState } from './shared-state.js';

/** Activates every configured feature; the returned function removes what can be removed. */
export function activate(): () => void {
  // `--require` and `--import` of coldstart/register in one process (or two copies of
  // coldstart) must not install the hooks twice.
  const state = sharedState();
  if (state.activated !== undefined) return state.activated;
  return sharingStampStats(() => activateOnce(state));
}

function activateOnce(state: SharedState): () => void {
  let unregisterIndex = (): void => {};
  let index: ReturnType<typeof prepareIndex> | undefined;
  /** A fresh pack serves this process: the index is read only when the pack leaves a lookup to it. */
  let whenAsked = false;
  try {
    // Found here, opened below: a fresh pack may make opening it unnecessary.
    index = prepareIndex();
  } catch (error) {
    debug('register', `index activation failed, continuing without it: ${(error as Error).message}`);
  }
  try {
    if (pathSetting('COLDSTART_LAZY_RECORDS') !== undefined) installRecordsWriter();
    // Before the index, which leaves sources to the pack's handler where it has one (the
    // pipeline's order, not this one, decides who answers first). A missing pack costs one failed open.
    const projectRoot = index?.root();
    const indexFile = index?.indexFile();
    // What an earlier run of this program taught (step-aside-learn.ts): beside a pack, of a
    // program the pack was not recorded for; without one, of any.
    activatePack(projectRoot === undefined || indexFile === undefined ? undefined : (packFile) => learnedStepsAside(projectRoot, indexFile, packFile));
    // A program the pack was recorded from is the pack's to decide, never learned beside it.
    const packFile = activePack()?.recordedProgram === true ? undefined : packBeside()?.file;
    const root = packAbsent() || packFile !== undefined ? projectRoot : undefined;
    const aside = packStepsAside() ?? (root === undefined || indexFile === undefined || !packAbsent() ? undefined : learnedStepsAside(root, indexFile));
    if (aside !== undefined) {
      // A small program, recorded so: nothing of coldstart's can pay for itself in this process.
      if (packStepsAside() === undefined) debug('register', aside);
      index?.stepAside(aside);
      index = undefined;
      state.activated = () => {
        state.activated = undefined;
      };
      return state.activated;
    }
    const pack = activePack();
    // A fresh pack knows how many installed packages use `import defer` (the index's count when
    // it was packed; the same install, or the pack would be stale), which is all start-up needs
    // of the index.
    whenAsked = pack?.deferUsers !== undefined;
    const view = whenAsked ? undefined : index?.open();
    // The configuration lookups below ask the index which files exist.
    if (view !== undefined) setKnownFiles((path) => view.isFileIfDecoded(path));
    const packageUses = whenAsked ? (pack?.deferUsers ?? 0) > 0 : (view?.deferUsers.length ?? 0) > 0;
    const deferHooks = installDeferHooks(pack?.hasLazyModules === true && !pack.servesStandIns, packageUses) !== undefined;
    const prepared = index;
    // Beside a pack, a run is learned only when it loaded no module the pack holds: none served,
    // none left to another tool's hooks, none changed since (step-aside-learn.ts).
    const besidePack = packFile === undefined ? undefined : packBeside();
    const beside = besidePack === undefined ? undefined : { file: besidePack.file, opened: besidePack.opened, served: () => (pack === undefined ? 0 : pack.counts.hits + pack.counts.foreign + pack.counts.stale) };
    if (root !== undefined && indexFile !== undefined) {
      learnSmallProgram(root, indexFile, { deferUsers: () => (whenAsked ? pack?.deferUsers : view?.deferUsers.length), deferHooks, imports: () => prepared?.imports(), pack: beside });
    }
  } catch (error) {
    debug('register', `activation failed, continuing without coldstart: ${(error as Error).message}`);
  }
  try {
    // A pack's recorded answers come first: a packed lookup then costs no index work.
    const pack = activePack();
    // Counted as the pack's own hooks count theirs, so doctor shows what the pack answered.
    const first = pack === undefined
      ? undefined
      : (dir: string, specifier: string, mode: 'r' | 'i') => {
        const found = pack.answer(dir, specifier, mode);
        if (found !== undefined) pack.counts.answers++;
        return found;
      };
    if (index !== undefined) unregisterIndex = index.install(first, whenAsked);
  } catch (error) {
    debug('register', `index activation failed, continuing without it: ${(error as Error).message}`);
  }
  const unregister = (): void => {
    unregisterIndex();
    state.activated = undefined;
  };
  state.activated = unregister;
  return unregister;
}
