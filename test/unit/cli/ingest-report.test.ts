import { describe, expect, it } from 'vitest';
import { describeChoices } from '../../../src/cli/ingest.js';
import { DomainError } from '../../../src/domain/errors.js';
import { parseResultsTsv } from '../../../src/domain/ingest/index.js';
import { withLines } from '../../../src/services/ingest.service.js';

const FILE = 'commit\tscore\tstatus\n# note\na1\t9\tkeep\na2\t8\tkeep\na3\t7\tkeep\n';

describe('ingest reports (issue 20)', () => {
  it('turns batch pointers into the file lines the rows came from', () => {
    const { rows } = parseResultsTsv(FILE);
    const e = new DomainError('validation_failed', 'bad batch', {
      errors: [
        { pointer: '/1/premises/0', message: "premise 'x' is not a known experiment" },
        { pointer: 'direction', message: 'kept as is' },
      ],
    });
    const out = withLines(e, rows, 1) as DomainError;
    expect(out.errors).toEqual([
      { line: 5, pointer: 'line 5', message: "premise 'x' is not a known experiment (premises/0)" },
      { pointer: 'direction', message: 'kept as is' },
    ]);
    expect(withLines(new Error('x'), rows)).toBeInstanceOf(Error);
  });

  it('prints each choice with its evidence, guesses marked', () => {
    const p = parseResultsTsv(FILE);
    const lines = describeChoices({ project: 'p', rows: p.rows, created: 3, unchanged: 0, updated: 0, warnings: [], metric: p.metric, direction: 'minimize', choices: p.choices });
    expect(lines).toEqual([
      '  metric: score: named like a metric; 2 of 2 steps between kept rows decrease',
      "  direction: minimize (data, guessed): 2 of 2 steps between kept rows decrease; the name suggests maximize",
      "  status column: status: named 'status'; 3 of 3 cells are keep/discard/crash",
      "  key column: commit: named 'commit'",
    ]);
  });
});
