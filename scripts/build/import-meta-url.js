// Injected into the CommonJS bundles: stands for `import.meta`, so that `import.meta.url` is the
// bundle's own file URL. A getter: building the URL at every start cost the register core about
// 1 M instructions (docs/decisions/startup-costs.md#where-a-start-goes), and most runs never ask.
export const importMeta = {
  get url() {
    return require('node:url').pathToFileURL(__filename).href;
  },
};
