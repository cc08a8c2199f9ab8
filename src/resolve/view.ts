// The contract between the module-location index and the pure resolver: the few filesystem
// facts Node's resolution algorithms read, answered from data. `undefined` always means "the
// index does not know" and makes the resolver give up so the hook falls through to Node.

/** The package.json fields Node's resolution and format detection read. */
export interface PackageFacts {
  /** Absolute path of the directory holding this package.json (a real path). */
  readonly dir: string;
  readonly name: string | undefined;
  readonly main: string | undefined;
  readonly exports: unknown;
  readonly imports: unknown;
  /** The `"type"` field as written: 'module', 'commonjs' or undefined. */
  readonly type: string | undefined;
  /** True when the file exists but is not valid JSON: resolution must fall through to Node,
   *  which raises its own error exactly as plain Node would. */
  readonly malformed?: boolean;
}

export interface ResolutionView {
  /** Is `path` (absolute) a file? true / false, or undefined when outside what the index covers. */
  isFile(path: string): boolean | undefined;
  /** Is `path` (absolute) a directory? Same three answers. */
  isDirectory(path: string): boolean | undefined;
  /** The package.json in directory `dir` itself (not a parent): facts, null when there is none,
   *  undefined when unknown. */
  packageJson(dir: string): PackageFacts | null | undefined;
  /** Real path of an existing `path` (symlinks followed), undefined when unknown. */
  realpath(path: string): string | undefined;
  /** Every node_modules directory the index covers is known to it; NODE_PATH entries in order.
   *  require() also searches Node's global folders after NODE_PATH (Module.globalPaths:
   *  ~/.node_modules, ~/.node_libraries, <prefix>/lib/node): list them too, or a bare name
   *  found nowhere else is answered "not found" where Node might still find it. */
  readonly nodePath: readonly string[];
}

/** What the resolver answers. */
export type Resolution =
  | { readonly kind: 'builtin'; readonly id: string }
  | {
      readonly kind: 'file';
      /** Absolute real path (what Node would load and key its caches by). */
      readonly path: string;
      /** 'commonjs' | 'module' | 'json' | 'wasm' | 'addon' | 'builtin', as Node's load hook names formats. */
      readonly format: string | undefined;
    }
  /** The index knows for certain that Node would fail: `code` is Node's error code. */
  | {
      readonly kind: 'not-found';
      readonly code:
        | 'MODULE_NOT_FOUND'
        | 'ERR_MODULE_NOT_FOUND'
        | 'ERR_PACKAGE_PATH_NOT_EXPORTED'
        | 'ERR_PACKAGE_IMPORT_NOT_DEFINED'
        | 'ERR_UNSUPPORTED_DIR_IMPORT'
        | 'ERR_INVALID_PACKAGE_TARGET';
      readonly message: string;
    }
  /** The index cannot answer: the hook must call Node's own resolution. */
  | { readonly kind: 'unknown'; readonly reason: string };

export interface ResolveRequest {
  readonly specifier: string;
  /** Absolute path of the importing file, or undefined for the entry point / REPL. */
  readonly parentPath: string | undefined;
  /** 'require' for the CommonJS algorithm, 'import' for the ESM algorithm. */
  readonly mode: 'require' | 'import';
  /** The full condition set, e.g. ['node', 'require', 'default'] plus user --conditions. */
  readonly conditions: readonly string[];
  /** CommonJS probing order, `Object.keys(require.extensions)`; defaults to Node's
   *  ['.js', '.json', '.node'] (a loader that adds extensions must pass them). */
  readonly extensions?: readonly string[];
}
