/** Exit codes shared by every command (SPEC §8). */
export const EXIT = { accept: 0, ok: 0, reject: 1, usage: 2, error: 2, reanchor: 3 } as const;
