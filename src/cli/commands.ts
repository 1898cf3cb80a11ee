import { registerCommand } from './main.js';

// Each command lives in its own module, loaded only when called.
registerCommand('gate', 'gate an experiment: exit 0 accept, 1 reject, 3 reanchor, 2 error', async () => (await import('./gate.js')).gateCommand);
