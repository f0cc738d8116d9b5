// Operator routes (issue 15), mounted only when OPERATOR_TOKEN is set: suspend / lift a user
// everywhere and purge a user's messages through the workers. Authenticated by the operator
// token alone (no user token), checked per route so that every other path stays a 404.
import crypto from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { userBlockTarget } from '../../contracts/schemas/user.schemas';
import type { OperatorService } from '../../domain/admin/operator.service';
import { errors } from '../../errors';
import { route } from '../route';

const digest = (s: string) => crypto.createHash('sha256').update(s).digest();

/** `Authorization: Bearer <OPERATOR_TOKEN>`, compared in constant time. */
function requireOperator(token: string): RequestHandler {
  const expected = digest(token);
  return (req, _res, next) => {
    const match = /^Bearer ([^\s]+)$/i.exec(req.header('authorization') ?? '');
    if (!match || !crypto.timingSafeEqual(digest(match[1]), expected)) return next(errors.unauthorized('operator token required'));
    next();
  };
}

export function adminRouter(operator: OperatorService, token: string): Router {
  const router = Router();
  const auth = requireOperator(token);
  // The same id rules as everywhere (1–128 characters); the user need not have an account
  // here (tokens of an external issuer name users this server never stored).
  const target = (userId: string) => userBlockTarget({ userId }).userId;
  const path = '/admin/users/:userId/suspension';
  router.get(path, auth, route(async (req, res) => {
    res.json(operator.status(target(req.params.userId)));
  }));
  router.put(path, auth, route(async (req, res) => {
    res.json(await operator.suspend(target(req.params.userId), 'rest'));
  }));
  router.delete(path, auth, route(async (req, res) => {
    res.json(await operator.lift(target(req.params.userId), 'rest'));
  }));
  router.post('/admin/users/:userId/messages/purge', auth, route(async (req, res) => {
    res.status(202).json(await operator.purgeMessages(target(req.params.userId), 'rest'));
  }));
  return router;
}
