// Baseline only: v1 used this module as it still is in src/ (only the scoring model and the
// scheduler changed in gate v2), so the baseline re-exports it instead of keeping a copy.
export * from '../../../../src/domain/cascade/compound.js';
