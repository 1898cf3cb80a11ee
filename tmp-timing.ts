import { buildApp } from './src/app.js';
import { loadConfig } from './src/config.js';
import { openDatabase } from './src/db/connection.js';
import { migrate } from './src/db/migrator.js';
for (const queue of [false, true, false, true]) {
  const t0 = Date.now();
  const db = await openDatabase({ dataDir: 'memory://' });
  const t1 = Date.now();
  await migrate(db);
  const t2 = Date.now();
  const app = await buildApp({ db, config: loadConfig({ ECV_AUTH: 'off' }) }, { swaggerUi: false, queue });
  await app.ready();
  const t3 = Date.now();
  console.log({ queue, open: t1 - t0, migrate: t2 - t1, build: t3 - t2 });
  await app.close(); await db.close();
}
