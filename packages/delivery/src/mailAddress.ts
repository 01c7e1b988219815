/**
 * Export e-mail addresses, parsed with a real RFC 5322 parser (`email-addresses`):
 * exactly one mailbox — no list (`a@b.c, x@y.z`), no group, no CR/LF or other
 * control characters that could add headers (`a@b.c\r\nBcc: x@y.z`), a domain
 * with a dot and no address literal.
 */
import emailAddresses from 'email-addresses';

/** The bare address (`local@domain`) of a single mailbox, or null when `input` is not exactly one. */
export function parseSingleMailbox(input: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (input.length > 320 || /[\x00-\x1f\x7f]/.test(input)) return null;
  const parsed = emailAddresses.parseOneAddress({ input, rfc6532: true, rejectTLD: true });
  if (!parsed || parsed.type !== 'mailbox') return null;
  const { address, domain } = parsed;
  if (!domain.includes('.') || domain.startsWith('[')) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f,;<>\s]/.test(address)) return null;
  return address;
}
