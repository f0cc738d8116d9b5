// The REST API on an Express app, in the order a request meets it: request context,
// security headers and CORS, health and metrics, the JSON body, then the routes
// (auth open, the rest behind requireAuth), the web client, and the error answers.
import express, { type Express } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import type { Deps } from '../deps';
import type { Revocation } from '../data/revocation.store';
import type { Services } from '../domain/services';
import { errorMiddleware, notFoundRoute } from './error.middleware';
import { admissionMiddleware } from './admission.middleware';
import { healthRouter } from './health.router';
import { buildOpenApi } from './openapi';
import { requestContext } from './request-context';
import { requireAuth } from './route';
import { authRouter } from './routers/auth.router';
import { moderationRouter } from './routers/moderation.router';
import { receiptsRouter } from './routers/receipts.router';
import { roomsRouter } from './routers/rooms.router';
import { sessionsRouter } from './routers/sessions.router';
import { usersRouter } from './routers/users.router';
import { adminRouter } from './routers/admin.router';
import type { OperatorService } from '../domain/admin/operator.service';
import { webClientRouter } from './web-client';

export interface ApiDeps {
  deps: Pick<Deps, 'config' | 'log' | 'metrics' | 'tokens' | 'isDraining' | 'admission'>;
  services: Services;
  revocation: Revocation;
  /** Operator controls, served under /api/v1/admin when OPERATOR_TOKEN is set. */
  operator: OperatorService;
  /** Readiness checks by dependency name. */
  checks: Record<string, () => Promise<boolean>>;
}

export function mountApi(api: Express, { deps, services, revocation, operator, checks }: ApiDeps): void {
  const { config, log, metrics, tokens } = deps;
  api.disable('x-powered-by');
  // req.ip trusts exactly as many X-Forwarded-For hops as the socket limits do.
  api.set('trust proxy', config.abuse.trustProxyHops);
  api.use(requestContext(log));
  api.use(helmet());
  api.use(cors({ origin: config.corsOrigins === '*' ? true : config.corsOrigins }));
  api.use(healthRouter({ metrics, metricsToken: config.metricsToken, isDraining: deps.isDraining, checks, isShedding: () => deps.admission.sheddingHard() }));
  api.use(express.json({ limit: '64kb', strict: true }));
  const openApi = buildOpenApi();
  api.get('/api/v1/openapi.json', (_req, res) => res.json(openApi));
  api.use('/api/v1', admissionMiddleware(deps.admission));
  api.use('/api/v1', sessionsRouter(tokens, revocation));
  if (config.operatorToken) api.use('/api/v1', adminRouter(operator, config.operatorToken));
  const chat = express.Router();
  chat.use(authRouter(services));
  chat.use(requireAuth(tokens));
  chat.use(usersRouter(services));
  chat.use(roomsRouter(services));
  chat.use(moderationRouter(services));
  chat.use(receiptsRouter(services));
  api.use('/api/v1', chat);
  if (config.webClient.enabled) api.use(webClientRouter(config.webClient.dir, log));
  api.use(notFoundRoute);
  api.use(errorMiddleware);
}
