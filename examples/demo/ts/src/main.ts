#!/usr/bin/env node
// The demo CLI in TypeScript, written as eagerly as eager.mjs: ordinary imports of the three heavy
// packages. Its build makes them lazy (the "coldstart.defer" list in ts/package.json), with no
// hooks at run time: esbuild with coldstart/esbuild, or tsc followed by `coldstart build-defer`.
import * as ts from 'typescript';
import * as s3 from '@aws-sdk/client-s3';
import * as eslint from 'eslint';
import { main } from '../../cli-body.mjs';

main(process.argv.slice(2), { ts, s3, eslint }).then((code) => {
  process.exitCode = code;
});
