// A client's retry budget for refused requests (the load generator's --retry and the chaos clients).
/**
 * A client's retry budget for refused sends (as gRPC's and Finagle's): every new send earns
 * 0.2 of a retry, up to 10 banked; a retry after a refusal spends one. Retries stay at most
 * ~20 % of the sends over time, however long an overload lasts.
 */
export class RetryBudget {
  private tokens = 10;
  constructor(
    private readonly ratio = 0.2,
    private readonly max = 10,
  ) {}
  earn(): void {
    this.tokens = Math.min(this.max, this.tokens + this.ratio);
  }
  spend(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
