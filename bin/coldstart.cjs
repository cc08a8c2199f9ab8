#!/usr/bin/env node
// The coldstart command. CommonJS on purpose: a CommonJS entry starts ~2.5 ms sooner than an
// ES module one, and `coldstart --help` should cost what `node -e 0` costs.
'use strict';
const { main } = require('../dist/cli/main.cjs');

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`coldstart: ${error && error.message ? error.message : String(error)}\n`);
    if (process.env.COLDSTART_DEBUG && error && error.stack) process.stderr.write(error.stack + '\n');
    process.exitCode = 1;
  },
);
