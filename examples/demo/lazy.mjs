#!/usr/bin/env node
// The same CLI with coldstart's lazy(): each package loads on first use, so --help loads none.
import { lazy } from 'coldstart';
import { main } from './cli-body.mjs';

const ts = /** @type {typeof import('typescript')} */ (lazy('typescript', import.meta.url));
const s3 = /** @type {typeof import('@aws-sdk/client-s3')} */ (lazy('@aws-sdk/client-s3', import.meta.url));
const eslint = /** @type {typeof import('eslint')} */ (lazy('eslint', import.meta.url));

process.exitCode = await main(process.argv.slice(2), { ts, s3, eslint });
