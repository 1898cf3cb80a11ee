import type { Direction, ExperimentStatus } from '../types.js';
import { inferDirection } from './direction.js';

/**
 * What the keep chain says about a column (issue 20). A loop keeps a row when it beats the
 * latest kept row, so along the kept rows the metric moves one way: down for a minimized
 * metric, up for a maximized one. A hyperparameter column (60/120/240) does not.
 */
export interface ChainMoves {
  /** Kept rows with a number in the column. */
  keeps: number;
  up: number;
  down: number;
}

/** Share of the moving steps that must go one way for the chain to "move in one direction". */
export const MONOTONE_SHARE = 0.8;
/** Moving steps needed before the chain says anything. */
export const MIN_MOVES = 2;

/** Counts the steps between consecutive kept rows that go up and down (ties are no step). */
export function chainMoves(
  values: ReadonlyArray<number | null>,
  statuses: readonly ExperimentStatus[],
): ChainMoves {
  let last: number | undefined;
  const out: ChainMoves = { keeps: 0, up: 0, down: 0 };
  values.forEach((v, i) => {
    if (statuses[i] !== 'keep' || v === null) return;
    out.keeps++;
    if (last !== undefined && v > last) out.up++;
    if (last !== undefined && v < last) out.down++;
    last = v;
  });
  return out;
}

/** The direction the kept rows move in, or null when they are too few or go both ways. */
export function chainDirection(m: ChainMoves): Direction | null {
  const moving = m.up + m.down;
  if (moving < MIN_MOVES) return null;
  if (m.up >= MONOTONE_SHARE * moving) return 'maximize';
  if (m.down >= MONOTONE_SHARE * moving) return 'minimize';
  return null;
}

/** True when the chain has enough steps and they go both ways (evidence against a metric). */
export const chainIsMixed = (m: ChainMoves): boolean =>
  m.up + m.down >= MIN_MOVES + 1 && chainDirection(m) === null;

/** `9 of 9 keeps decrease` — the chain in words. */
export function describeChain(m: ChainMoves): string {
  const moving = m.up + m.down;
  if (moving === 0) return `${m.keeps} kept row(s), no change between them`;
  const d = chainDirection(m);
  if (d === 'minimize') return `${m.down} of ${moving} steps between kept rows decrease`;
  if (d === 'maximize') return `${m.up} of ${moving} steps between kept rows increase`;
  return `steps between kept rows go both ways (${m.up} up, ${m.down} down)`;
}

export type DirectionSource = 'explicit' | 'project' | 'hint' | 'data' | 'name' | 'none';

export interface DirectionChoice {
  /** The direction to use for a new project; null when nothing tells. */
  value: Direction | null;
  source: DirectionSource;
  /** True when neither a caller, the project, a comment in the file nor name and data together settle it. */
  guess: boolean;
  evidence: string;
  /** What the keep chain says (null: too few keeps, or mixed). */
  data: Direction | null;
  /** What the metric's name says (docs/api.md lists the names). */
  name: Direction | null;
}

export interface DirectionWarning {
  code: 'direction_contradicted';
  message: string;
}

/**
 * Chooses the metric's direction: a declared one (caller, project, `# direction:` comment)
 * always wins, warned about loudly when the keep chain moves the other way; else the keep
 * chain, which beats the name when they disagree (`score` whose every keep is a decrease);
 * else the name; else none.
 */
export function chooseDirection(
  metric: string,
  moves: ChainMoves | undefined,
  declared?: { value: Direction; source: 'explicit' | 'project' | 'hint' },
): { choice: DirectionChoice; warnings: DirectionWarning[] } {
  const data = moves ? chainDirection(moves) : null;
  const name = inferDirection(metric);
  const chain = moves ? describeChain(moves) : 'no status column to read a keep chain from';
  const warnings: DirectionWarning[] = [];
  const against = (d: Direction, who: string) =>
    warnings.push({
      code: 'direction_contradicted',
      message: `DIRECTION CONTRADICTED: ${who} says ${d}, but in this file ${chain} (${data}); check the direction`,
    });
  if (declared) {
    if (data !== null && data !== declared.value) {
      const who = {
        explicit: 'the direction given',
        project: "the project's config",
        hint: 'the direction comment',
      };
      against(declared.value, who[declared.source]);
    }
    const agree = data === declared.value ? `; ${chain}` : '';
    return {
      choice: {
        value: declared.value,
        source: declared.source,
        guess: false,
        evidence: `${declared.source}${agree}`,
        data,
        name,
      },
      warnings,
    };
  }
  if (data !== null) {
    if (name !== null && name !== data) {
      against(name, `the name '${metric}'`);
      return {
        choice: {
          value: data,
          source: 'data',
          guess: true,
          evidence: `${chain}; the name suggests ${name}`,
          data,
          name,
        },
        warnings,
      };
    }
    const guess = name === null;
    const why = guess
      ? `${chain}; the name '${metric}' says nothing`
      : `${chain}, as the name '${metric}' says`;
    return { choice: { value: data, source: 'data', guess, evidence: why, data, name }, warnings };
  }
  if (name !== null) {
    return {
      choice: {
        value: name,
        source: 'name',
        guess: true,
        evidence: `the name '${metric}' (a ${name} metric name); ${chain}`,
        data,
        name,
      },
      warnings,
    };
  }
  return {
    choice: {
      value: null,
      source: 'none',
      guess: true,
      evidence: `the name '${metric}' is not a known metric name and ${chain}`,
      data,
      name,
    },
    warnings,
  };
}
