import { DomainError } from '../domain/errors.js';
import { COMMANDS } from './commands.js';
import { EXIT } from './exit.js';

/** The top-level help: every command with its summary. */
export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `usage: ecv <command> [options]   (ecv <command> --help: its options, defaults, an example, exit codes)\n\ncommands:\n${lines.join('\n')}\n\nGlobal: --url (or ECV_URL) talks to a service with ECV_TOKEN; without it, commands run in-process on the embedded database.`;
}

/** Dispatches argv to a command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`ecv: unknown command '${name}'\n\n${usage()}`);
    return EXIT.usage;
  }
  // Help is printed before the command loads: `--help` has no side effects (`ecv migrate --help`).
  const { HELP, wantsHelp } = await import('./help.js');
  if (wantsHelp(rest) && HELP[name]) {
    console.log(HELP[name]);
    return EXIT.ok;
  }
  try {
    return await (await cmd.load())(rest);
  } catch (e) {
    if (e instanceof DomainError) {
      console.error(`ecv ${name}: ${e.message}`);
      for (const d of e.errors ?? []) console.error(`  ${d.line !== undefined ? `line ${d.line}: ` : d.pointer ? `${d.pointer}: ` : ''}${d.message}`);
      return EXIT.error;
    }
    if ((e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (e as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      console.error(`ecv ${name}: ${(e as Error).message}`);
      return EXIT.usage;
    }
    console.error(`ecv ${name}: ${(e as Error).message ?? e}`);
    return EXIT.error;
  }
}
