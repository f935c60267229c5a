/**
 * Prometheus text exposition (version 0.0.4) of what the server did: requests by route and
 * status, request latency as a histogram, usage events by outcome, refusals by error code.
 * Kept by hand: a few counters do not need a client library.
 */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Histogram = { counts: number[]; sum: number; count: number };

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

export class Metrics {
  private readonly requests = new Map<string, { labels: Record<string, string>; count: number }>();
  private readonly latency = new Map<string, { labels: Record<string, string>; histogram: Histogram }>();
  private readonly usageEvents = new Map<string, number>();
  private readonly refusals = new Map<string, number>();
  private readonly holdOutcomes = new Map<string, { labels: Record<string, string>; count: number }>();
  private forbidden = 0;
  private groupCommits = 0;
  private groupEvents = 0;
  inFlight = 0;
  requestCount = 0;
  private readonly startedAtMs = Date.now();

  request(method: string, route: string, status: number, seconds: number): void {
    this.requestCount += 1;
    const key = `${method} ${route} ${status}`;
    const entry = this.requests.get(key);
    if (entry) entry.count += 1;
    else this.requests.set(key, { labels: { method, route, status: String(status) }, count: 1 });
    const latencyKey = `${method} ${route}`;
    let histogram = this.latency.get(latencyKey)?.histogram;
    if (!histogram) {
      histogram = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(latencyKey, { labels: { method, route }, histogram });
    }
    for (let index = BUCKETS.length - 1; index >= 0 && seconds <= BUCKETS[index]!; index -= 1) histogram.counts[index]! += 1;
    histogram.sum += seconds;
    histogram.count += 1;
  }

  usage(outcome: 'accepted' | 'duplicate' | 'refused' | 'malformed', count = 1): void {
    if (count > 0) this.usageEvents.set(outcome, (this.usageEvents.get(outcome) ?? 0) + count);
  }

  /** A hold placed, captured or released through the API, by what came of it. */
  hold(action: 'hold' | 'capture' | 'release', outcome: 'done' | 'duplicate' | 'refused'): void {
    const key = `${action} ${outcome}`;
    const entry = this.holdOutcomes.get(key);
    if (entry) entry.count += 1;
    else this.holdOutcomes.set(key, { labels: { action, outcome }, count: 1 });
  }

  refusal(code: string, count = 1): void {
    if (count > 0) this.refusals.set(code, (this.refusals.get(code) ?? 0) + count);
  }

  /** One write transaction of the single-event writer (coalescer.ts) and how many events it held. */
  groupCommit(events: number): void {
    this.groupCommits += 1;
    this.groupEvents += events;
  }

  forbid(): void {
    this.forbidden += 1;
  }

  render(): string {
    const lines: string[] = [];
    lines.push('# HELP credits_http_requests_total HTTP requests answered, by method, route and status.', '# TYPE credits_http_requests_total counter');
    for (const entry of this.requests.values()) lines.push(`credits_http_requests_total${labels(entry.labels)} ${entry.count}`);
    lines.push('# HELP credits_http_request_duration_seconds Time from request to response.', '# TYPE credits_http_request_duration_seconds histogram');
    for (const { labels: latencyLabels, histogram } of this.latency.values()) {
      for (const [index, bound] of BUCKETS.entries())
        lines.push(`credits_http_request_duration_seconds_bucket${labels({ ...latencyLabels, le: String(bound) })} ${histogram.counts[index]}`);
      lines.push(`credits_http_request_duration_seconds_bucket${labels({ ...latencyLabels, le: '+Inf' })} ${histogram.count}`);
      lines.push(`credits_http_request_duration_seconds_sum${labels(latencyLabels)} ${histogram.sum}`);
      lines.push(`credits_http_request_duration_seconds_count${labels(latencyLabels)} ${histogram.count}`);
    }
    lines.push(
      '# HELP credits_http_requests_in_flight Requests being served now.',
      '# TYPE credits_http_requests_in_flight gauge',
      `credits_http_requests_in_flight ${this.inFlight}`,
    );
    lines.push('# HELP credits_usage_events_total Usage events posted through the API, by outcome.', '# TYPE credits_usage_events_total counter');
    for (const outcome of ['accepted', 'duplicate', 'refused', 'malformed'])
      lines.push(`credits_usage_events_total${labels({ outcome })} ${this.usageEvents.get(outcome) ?? 0}`);
    lines.push('# HELP credits_holds_total Holds placed, captured and released through the API, by outcome.', '# TYPE credits_holds_total counter');
    for (const entry of this.holdOutcomes.values()) lines.push(`credits_holds_total${labels(entry.labels)} ${entry.count}`);
    lines.push('# HELP credits_refusals_total Requests and usage events refused by a ledger rule, by error code.', '# TYPE credits_refusals_total counter');
    for (const [code, count] of this.refusals) lines.push(`credits_refusals_total${labels({ code })} ${count}`);
    lines.push(
      "# HELP credits_forbidden_total Requests refused because the token's role or department does not allow them.",
      '# TYPE credits_forbidden_total counter',
    );
    lines.push(`credits_forbidden_total ${this.forbidden}`);
    lines.push(
      '# HELP credits_usage_group_commits_total Write transactions that posted single usage events (POST /v1/usage), each holding every event queued meanwhile.',
      '# TYPE credits_usage_group_commits_total counter',
      `credits_usage_group_commits_total ${this.groupCommits}`,
    );
    lines.push(
      '# HELP credits_usage_group_events_total Single usage events those transactions held.',
      '# TYPE credits_usage_group_events_total counter',
      `credits_usage_group_events_total ${this.groupEvents}`,
    );
    lines.push(
      '# HELP credits_uptime_seconds Seconds since the server started.',
      '# TYPE credits_uptime_seconds gauge',
      `credits_uptime_seconds ${(Date.now() - this.startedAtMs) / 1000}`,
    );
    return `${lines.join('\n')}\n`;
  }
}
