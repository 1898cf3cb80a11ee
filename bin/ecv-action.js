#!/usr/bin/env node
// The GitHub Action's step (action.yml): runs `ecv check` and writes outputs and annotations.
import { register } from 'tsx/esm/api';

register();
const { runAction } = await import('../src/cli/github-action.ts');
process.exitCode = await runAction();
