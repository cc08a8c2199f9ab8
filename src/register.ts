// `node --import coldstart/register` / `--require coldstart/register`: activates coldstart in
// this process (and its children through NODE_OPTIONS), installing what is configured.
import { activate } from './activate.js';

activate();
