/**
 * The server's clock as this tab estimates it. The job list and the push channel's "status" carry
 * `server_time` (the server's clock when sent); what counts down to a job's time limit (the time-left
 * badge, the near-the-limit notice) counts on that clock, not on the browser's, which may be minutes
 * off the cluster's. Before the first answer: the browser's clock.
 */
let offset = 0; // server minus browser, seconds

/** Note the server's time of an answer received at `receivedAt` (browser epoch seconds). */
export function noteServerTime(serverTime: number | null | undefined, receivedAt: number = Date.now() / 1000): void {
  if (typeof serverTime === 'number' && Number.isFinite(serverTime)) {
    offset = serverTime - receivedAt;
  }
}

/** The server's time now (epoch seconds), from the last answer's `server_time`. */
export function serverNow(): number {
  return Date.now() / 1000 + offset;
}
