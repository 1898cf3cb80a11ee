/**
 * Experiment keys that name Object.prototype members ('constructor', '__proto__', …) are
 * refused: graphology keeps neighbours in plain objects, where such a key reads as an edge that
 * already exists. Ingestion renames them (`constructor_`) with a warning instead.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

export const isReservedKey = (k: string): boolean => RESERVED_KEYS.has(k);
