/**
 * QUAYLOGS_BOOTSTRAP_TOKEN: makes sure a superuser `admin` exists and that this
 * value is its bearer token. Changing the value re-keys it (the old bootstrap
 * token stops working).
 */
import { getUser, listAppTokens, putAppToken, putUser, upsertAccounts } from '@quaylogs/clickhouse';
import type { AppContext } from './context.ts';
import { createAppToken } from './routes/appTokens.ts';
import { hashToken } from './tokenCodes.ts';

export const BOOTSTRAP_USER = 'admin';
const BOOTSTRAP_TITLE = 'bootstrap (QUAYLOGS_BOOTSTRAP_TOKEN)';

export async function ensureBootstrapAdmin(ctx: AppContext, token: string): Promise<void> {
  const user = await getUser(ctx.store, BOOTSTRAP_USER);
  if (!user || !user.superuser) {
    await putUser(ctx.store, { username: BOOTSTRAP_USER, email: user?.email ?? 'admin@quaylogs.local', superuser: true });
    await upsertAccounts(ctx.store, 'quaylogs', [{ name: BOOTSTRAP_USER, kind: 'user', email: user?.email ?? null }]);
    ctx.accounts.forget(BOOTSTRAP_USER);
  }
  const hash = hashToken(token);
  const tokens = await listAppTokens(ctx.store, BOOTSTRAP_USER);
  let present = false;
  for (const t of tokens.filter((t) => t.title === BOOTSTRAP_TITLE)) {
    // An expiring bootstrap token (made by an older version under QUAYLOGS_APPTOKEN_TTL) is re-keyed without expiry.
    if (t.token_hash === hash && !t.expiration) present = true;
    else await putAppToken(ctx.store, t, true);
  }
  if (!present) await createAppToken(ctx, BOOTSTRAP_USER, BOOTSTRAP_TITLE, { performer: BOOTSTRAP_USER, ip: '' }, token, false);
  ctx.auth.invalidate();
}
