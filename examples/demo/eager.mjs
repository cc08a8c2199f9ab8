#!/usr/bin/env node
// The demo CLI as most CLIs are written: every heavy package imported at the top.
import * as ts from 'typescript';
import * as s3 from '@aws-sdk/client-s3';
import * as eslint from 'eslint';
import { main } from './cli-body.mjs';

process.exitCode = await main(process.argv.slice(2), { ts, s3, eslint });
