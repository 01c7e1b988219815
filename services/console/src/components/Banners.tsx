/** Global messages (Quay's /api/v1/messages) as banners on every page; markdown is sanitised before it is shown. */
import { Alert, Stack } from '@mantine/core';
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useEffect, useState } from 'react';
import { get } from '../api.ts';

export interface GlobalMessage {
  uuid: string;
  content: string;
  media_type: 'text/plain' | 'text/markdown';
  severity: 'info' | 'warning' | 'error';
}

const COLOR = { info: 'blue', warning: 'yellow', error: 'red' } as const;
const TITLE = { info: 'Notice', warning: 'Warning', error: 'Important' } as const;

export function renderMarkdown(md: string): string {
  return DOMPurify.sanitize(marked.parse(md, { async: false, gfm: true }) as string, { USE_PROFILES: { html: true } });
}

export function MessageBody({ m }: { m: GlobalMessage }) {
  if (m.media_type === 'text/markdown') {
    return <div className="ql-banner-content" dangerouslySetInnerHTML={{ __html: renderMarkdown(m.content) }} />;
  }
  return <div className="ql-banner-content">{m.content}</div>;
}

let listeners: (() => void)[] = [];
/** Other views call this after creating or deleting a message. */
export function refreshBanners(): void {
  for (const l of listeners) l();
}

export function Banners({ routeKey }: { routeKey: string }) {
  const [messages, setMessages] = useState<GlobalMessage[]>([]);
  useEffect(() => {
    let alive = true;
    const load = () =>
      get<{ messages: GlobalMessage[] }>('/api/v1/messages')
        .then((r) => alive && setMessages(r.messages))
        .catch(() => undefined);
    load();
    const timer = setInterval(load, 15_000);
    listeners.push(load);
    return () => {
      alive = false;
      clearInterval(timer);
      listeners = listeners.filter((l) => l !== load);
    };
  }, [routeKey]);
  if (messages.length === 0) return null;
  return (
    <Stack gap="xs" mb="md" role="region" aria-label="Messages from the administrators">
      {messages.map((m) => (
        <Alert key={m.uuid} color={COLOR[m.severity]} title={TITLE[m.severity]} data-testid="global-message" data-severity={m.severity}>
          <MessageBody m={m} />
        </Alert>
      ))}
    </Stack>
  );
}
