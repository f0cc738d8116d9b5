// REST admission: refuses a request at once (503 + Retry-After) while the node's database is
// saturated, and gives every admitted request its time budget (dropped, never run late).
import type { RequestHandler } from 'express';
import type { Admission } from '../overload/admission';

export function admissionMiddleware(admission: Admission): RequestHandler {
  return (_req, _res, next) => {
    try {
      admission.enterHttp();
    } catch (err) {
      next(err);
      return;
    }
    // The route runs inside the budget's async context (route handlers are called from next()).
    admission.withBudget(() => next());
  };
}
