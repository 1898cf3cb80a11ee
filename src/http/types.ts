import type { Deps } from '../services/deps.js';
import type { TokenRole } from '../services/tokens.service.js';

/** Who may call a route: checked by the auth plugin from `config.access`. */
export type Access = 'public' | 'read' | 'write' | 'runner' | 'admin';

declare module 'fastify' {
  interface FastifyInstance {
    deps: Deps;
  }
  interface FastifyRequest {
    /** Projects the caller's token reaches; null = all (admin, or auth off). */
    visibleProjects: Set<string> | null;
    /** Token id or 'anonymous', recorded with gate decisions. */
    caller: string;
    /** The caller's token role; null with auth off (every right). */
    callerRole: TokenRole | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}
