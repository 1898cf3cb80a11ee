import { describe, expect, it } from 'vitest';
import { PROGRAM_MARKER, programParagraph } from '../../../src/cli/init.js';

/** The program.md paragraph is the loop protocol (SPEC §8): the commands it names, literally. */
describe('program.md gate paragraph', () => {
  const p = programParagraph('digits', { name: 'val_accuracy', direction: 'maximize' });

  it('names every step of the protocol as a command to type', () => {
    expect(p).toContain(PROGRAM_MARKER);
    expect(p).toContain('`ecv bar --quiet`');
    expect(p).toContain('`ecv ingest results.tsv --git .`');
    expect(p).toContain('`ecv gate <short-commit> --wait 900`');
    expect(p).toContain('`git reset --hard <previous accepted keep>`');
    expect(p).toMatch(/from `keep` to `discard` in results\.tsv/);
    expect(p).toMatch(/Ingest after every experiment/);
    // Each exit code of `ecv gate` has its instruction, in order.
    const at = ['exit 0 (accept)', 'exit 1 (reject)', 'exit 3 (reanchor'].map((s) => p.indexOf(s));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(p).toContain('digits');
  });

  it('says which side of the bar a keep must be on', () => {
    expect(p).toContain('val_accuracy above it');
    expect(programParagraph('lm', { name: 'val_bpb', direction: 'minimize' })).toContain('val_bpb below it');
    expect(programParagraph('lm')).not.toMatch(/above it|below it/);
  });
});
