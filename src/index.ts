// The coldstart API. Only the lazy pillar loads with it; everything else is imported on demand.
export { lazy, lazyNamed, lazyModules, isLazy, unwrap, lazyRecordOf } from './lazy/lazy.js';
export { lazyRecords, type LazyRecord, type LazyStatus } from './lazy/records.js';
export { LazyLoadError } from './lazy/errors.js';
export { eagerMode } from './lazy/eager.js';
export { resolveWithIndex, type IndexResolveOptions, type IndexResolution } from './locations/api.js';
