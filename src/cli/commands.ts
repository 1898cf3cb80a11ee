/** A command: takes its arguments, answers its exit code. */
export type Command = (argv: string[]) => Promise<number>;

/**
 * Every `ecv` command, in the order `ecv --help` lists them. Each lives in its own module,
 * loaded only when called (so `ecv gate` never loads the runner or the server).
 */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'run the service (same as npm start)', load: async () => (await import('./serve.js')).serveCommand },
  migrate: { summary: 'apply database migrations and exit', load: async () => (await import('./serve.js')).migrateCommand },
  bar: { summary: 'print the bar a keep on the accepted head must beat (--quiet: the number only)', load: async () => (await import('./bar.js')).barCommand },
  gate: { summary: 'gate an experiment: exit 0 accept, 1 reject, 3 reanchor, 2 error', load: async () => (await import('./gate.js')).gateCommand },
  ingest: { summary: 'ingest a results.tsv (optionally with git lineage)', load: async () => (await import('./ingest.js')).ingestCommand },
  check: { summary: 'CI check of an experiment branch: exit 0 accept, 1 reject, 3 reanchor, 2 error', load: async () => (await import('./check.js')).checkCommand },
  init: { summary: 'write ecv.json and the program.md gate paragraph', load: async () => (await import('./init.js')).initCommand },
  token: { summary: 'manage API tokens: create --role r --project p | list | revoke <id>', load: async () => (await import('./token.js')).tokenCommand },
  runner: { summary: 'lease re-anchoring jobs and run them in git worktrees (GPU runner)', load: async () => (await import('./runner.js')).runnerCommand },
  report: { summary: 'audit report of a project as HTML, Markdown or JSON (--format, --out)', load: async () => (await import('./report.js')).reportCommand },
};
