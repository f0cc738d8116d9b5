// Signed webhook POSTs: the one HTTP client of the workers. A 2xx within the timeout is
// success; anything else throws, and the job's retry policy decides what happens next.
import crypto from 'node:crypto';
import type { JobMetrics } from '../job-metrics';

export interface WebhookTarget {
  /** Label in metrics and logs: 'notify' or 'events'. */
  name: string;
  url: string;
  secret: string;
}

/** The JSON body every webhook carries. */
export interface WebhookEnvelope {
  id: string;
  type: string;
  createdAt: string;
  data: unknown;
}

export class WebhookError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or 'timeout' / 'network'. */
    readonly outcome: string,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`: what receivers recompute. */
export function signWebhook(secret: string, timestamp: number, rawBody: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export interface WebhookSender {
  send(target: WebhookTarget, envelope: WebhookEnvelope): Promise<void>;
}

export function createWebhookSender(opts: { timeoutMs: number; metrics: JobMetrics; userAgent?: string }): WebhookSender {
  return {
    async send(target, envelope) {
      const body = JSON.stringify(envelope);
      // Signed per attempt: the timestamp lets receivers refuse replays of old attempts.
      const timestamp = Math.floor(Date.now() / 1000);
      const stop = opts.metrics.webhookRequests.startTimer({ target: target.name });
      let outcome = 'network';
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(opts.timeoutMs),
          headers: {
            'content-type': 'application/json',
            'user-agent': opts.userAgent ?? 'chat-webhooks/1',
            'x-webhook-id': envelope.id,
            'x-webhook-timestamp': String(timestamp),
            'x-webhook-signature': signWebhook(target.secret, timestamp, body),
          },
        });
        // The answer's body is never read; releasing it frees the connection for reuse.
        await res.body?.cancel().catch(() => undefined);
        outcome = res.status >= 200 && res.status < 300 ? '2xx' : String(res.status);
        if (outcome !== '2xx') throw new WebhookError(`${target.name} webhook answered ${res.status}`, outcome);
      } catch (err) {
        if (err instanceof WebhookError) throw err;
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        outcome = timedOut ? 'timeout' : 'network';
        const reason = timedOut ? `no answer within ${opts.timeoutMs} ms` : describeNetworkError(err);
        throw new WebhookError(`${target.name} webhook failed: ${reason}`, outcome);
      } finally {
        stop({ outcome });
      }
    },
  };
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}
