#!/usr/bin/env node
// The same CLI with the import-lazy package, the CommonJS-only peer coldstart measures against.
'use strict';
const importLazy = require('import-lazy')(require);

const ts = importLazy('typescript');
const s3 = importLazy('@aws-sdk/client-s3');
const eslint = importLazy('eslint');

import('./cli-body.mjs').then(async ({ main }) => {
  process.exitCode = await main(process.argv.slice(2), { ts, s3, eslint });
});
