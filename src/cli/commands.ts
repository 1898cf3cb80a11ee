import { registerCommand } from './main.js';

// Each command lives in its own module, loaded only when called.
registerCommand('bar', 'print the bar a keep on the accepted head must beat (--quiet: the number only)', async () => (await import('./bar.js')).barCommand);
registerCommand('gate', 'gate an experiment: exit 0 accept, 1 reject, 3 reanchor, 2 error', async () => (await import('./gate.js')).gateCommand);
registerCommand('ingest', 'ingest a results.tsv (optionally with git lineage)', async () => (await import('./ingest.js')).ingestCommand);
registerCommand('check', 'CI check of an experiment branch: exit 0 accept, 1 reject, 3 reanchor, 2 error', async () => (await import('./check.js')).checkCommand);
registerCommand('init', 'write ecv.json and the program.md gate paragraph', async () => (await import('./init.js')).initCommand);
registerCommand('token', 'manage API tokens: create --role r --project p | list | revoke <id>', async () => (await import('./token.js')).tokenCommand);
registerCommand('runner', 'lease re-anchoring jobs and run them in git worktrees (GPU runner)', async () => (await import('./runner.js')).runnerCommand);
registerCommand('report', 'audit report of a project as HTML, Markdown or JSON (--format, --out)', async () => (await import('./report.js')).reportCommand);
