// Injected into the CommonJS bundles: stands for `import.meta.url`, the bundle's own file URL.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
