// What `coldstart/register` does at start-up: cheap checks of the environment, then each
// feature installs itself. Nothing here may throw: a broken activation must leave the program
// running as if coldstart were absent.
import { pathSetting } from './settings.js';
import { debug } from './debug.js';
import { installRecordsWriter } from './lazy/eager.js';
import { installDeferHooks } from './defer/provider.js';
import { prepareIndex } from './locations/open-at-start.js';
import { setKnownFiles } from './defer/config.js';
import { activatePack, activePack } from './pack/open-at-start.js';
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
  try {
    // Opened first, hooked in last: the configuration lookups below ask it which files exist.
    index = prepareIndex();
    const view = index.view;
    if (view !== undefined) setKnownFiles((path) => view.isFileIfDecoded(path));
  } catch (error) {
    debug('register', `index activation failed, continuing without it: ${(error as Error).message}`);
  }
  try {
    if (pathSetting('COLDSTART_LAZY_RECORDS') !== undefined) installRecordsWriter();
    // Before the index, which leaves sources to the pack's handler where it has one (the
    // pipeline's order, not this one, decides who answers first). A missing pack costs one failed open.
    activatePack();
    const pack = activePack();
    // The index knows whether an installed package uses `import defer` (read when it was built).
    installDeferHooks(pack?.hasLazyModules === true && !pack.servesStandIns, (index?.view?.deferUsers.length ?? 0) > 0);
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
    if (index !== undefined) unregisterIndex = index.install(first);
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
