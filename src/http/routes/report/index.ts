import type { FastifyInstance } from 'fastify';
import { renderReport, type ReportFormat } from '../../../services/report.service.js';
import { ProjectParams, ReportQuery } from '../../../../schemas/routes.js';
import { problems, ref } from '../../schemas.js';

const MEDIA: Record<ReportFormat, string> = {
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
};

/** Media ranges each form answers to; `*∕*` and absent Accept mean JSON. */
const ACCEPTS: [string, ReportFormat][] = [
  ['application/json', 'json'],
  ['text/html', 'html'],
  ['application/xhtml+xml', 'html'],
  ['text/markdown', 'md'],
  ['text/x-markdown', 'md'],
  ['text/*', 'html'],
  ['application/*', 'json'],
  ['*/*', 'json'],
];

/**
 * The form to send for an Accept header: the acceptable one with the highest q; among equal
 * q, specific ranges beat wildcards, then the order given. Nothing acceptable → JSON
 * (RFC 9110 §12.5.1 lets a server ignore Accept rather than answer 406).
 */
export function negotiate(accept: string | undefined): ReportFormat {
  if (!accept) return 'json';
  let best: { f: ReportFormat; q: number; rank: number } | null = null;
  const parts = accept.split(',');
  for (let i = 0; i < parts.length; i++) {
    const [range, ...params] = parts[i].trim().toLowerCase().split(';');
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qp ? Number(qp.slice(2)) : 1;
    const idx = ACCEPTS.findIndex(([r]) => r === range.trim());
    if (idx < 0 || !(q > 0)) continue;
    const rank = (range.includes('*') ? 1000 : 0) + i;
    if (!best || q > best.q || (q === best.q && rank < best.rank)) best = { f: ACCEPTS[idx][1], q, rank };
  }
  return best?.f ?? 'json';
}

// The HTML page loads nothing: no scripts, no fetches, no fonts; only its inline styles.
export const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export default async function reportRoutes(app: FastifyInstance) {
  app.get<{ Params: ProjectParams; Querystring: ReportQuery }>(
    '/v1/projects/:project/report',
    {
      config: { access: 'read' },
      schema: {
        tags: ['reports'],
        operationId: 'getReport',
        summary: 'Audit report: summary, premise DAG, main chain, contamination, gate log, reproductions',
        description:
          'Content negotiation by `Accept` (`application/json` (default), `text/html`, `text/markdown`) or `?format=json|html|md`. The HTML page is self-contained (inline CSS and SVG, no scripts, nothing fetched); the Markdown fits a pull-request comment.',
        params: ProjectParams,
        querystring: ReportQuery,
        response: {
          200: {
            description: 'The report',
            content: {
              'application/json': { schema: ref('Report') },
              'text/html': { schema: { type: 'string', description: 'self-contained HTML page' } },
              'text/markdown': { schema: { type: 'string', description: 'Markdown for a pull-request comment' } },
            },
          },
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (req, reply) => {
      const q = req.query.format;
      const format: ReportFormat = q === 'markdown' ? 'md' : (q ?? negotiate(req.headers.accept));
      const body = await renderReport(app.deps, req.params.project, format, { maxNodes: req.query.maxNodes });
      reply.header('vary', 'Accept').type(MEDIA[format]);
      if (format === 'html') reply.header('content-security-policy', HTML_CSP).header('x-content-type-options', 'nosniff');
      return reply.send(body);
    },
  );
}
