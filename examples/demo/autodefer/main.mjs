#!/usr/bin/env node
// The demo CLI with ordinary imports, as eager.mjs, made lazy only by the "coldstart.defer" entry
// in this directory's package.json. Run: node --import coldstart/register autodefer/main.mjs
import * as ts from 'typescript';
import * as s3 from '@aws-sdk/client-s3';
import * as eslint from 'eslint';
import { main } from '../cli-body.mjs';

process.exitCode = await main(process.argv.slice(2), { ts, s3, eslint });
