/**
 * A client bound to one registry and token, owning its connection pool (and so its
 * connect timeout). Close it when done.
 */
import { createQuayAgent, type QuayTimeouts } from './http.ts';
import { fetchLogsPage, type FetchLogsPageOptions, type QuayLogsPage } from './logsPage.ts';

export interface QuayClientOptions {
  baseUrl: string;
  token: string;
  timeouts?: Partial<QuayTimeouts>;
  maxBodyBytes?: number;
}

export type LogsPageRequest = Omit<FetchLogsPageOptions, 'baseUrl' | 'token' | 'dispatcher' | 'timeouts' | 'maxBodyBytes'>;

export interface QuayClient {
  readonly baseUrl: string;
  fetchLogsPage(req: LogsPageRequest): Promise<QuayLogsPage>;
  close(): Promise<void>;
}

export function createQuayClient(opts: QuayClientOptions): QuayClient {
  const agent = createQuayAgent(opts.timeouts);
  return {
    baseUrl: opts.baseUrl,
    fetchLogsPage: (req) =>
      fetchLogsPage({
        ...req,
        baseUrl: opts.baseUrl,
        token: opts.token,
        dispatcher: agent,
        ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
      } as FetchLogsPageOptions),
    close: () => agent.close(),
  };
}
