// Message → Discord execute-webhook body: one embed coloured by severity. Every part is cut to
// Discord's documented limits (content 2000, title 256, description 4096, 25 fields of 256/1024,
// footer 2048, 6000 for the whole embed), so a message is never rejected for its length. The log
// tail is a code block cut from the top: its last lines survive. Mentions are disabled, so log
// text cannot ping @everyone.
import type { APIEmbed, APIEmbedField, RESTPostAPIWebhookWithTokenJSONBody } from 'discord-api-types/v10';
import { hintText, type Message, type MessageHint, type Severity } from '../../model/message.js';
import { cutEndToFit, keepLastLines, plural, truncate } from '../../lib/format.js';
import { formatTable, neutralizeBackticks } from '../text/render.js';

/** Discord's limits, in characters (we count UTF-16 units, which is never fewer). */
export const DISCORD_LIMITS = {
  content: 2000,
  username: 80,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  embedTotal: 6000,
} as const;

export const DISCORD_COLOURS: Record<Severity, number> = {
  success: 0x2ecc71,
  failure: 0xe74c3c,
  warning: 0xe67e22,
  info: 0x3498db,
};

export interface DiscordRenderOptions {
  /** Override the webhook's display name (1-80 characters). */
  username?: string;
  /** How a hint's command is written (default: the slash command, "/best slurm:true"). */
  renderHint?: (h: MessageHint) => string;
}

/**
 * A hint in Discord's syntax: "/best slurm:true", "/top node:NODE". Here, not beside the command
 * table (frontends/discord/commands.ts), so notifiers never load the table and zod.
 */
export function discordHint(h: MessageHint): string {
  return [`/${h.command}`, ...Object.entries(h.args ?? {}).map(([k, v]) => `${k}:${String(v)}`)].join(' ');
}

/** A blank that Discord accepts where a field name or value must not be empty. */
const BLANK = '\u200b';
/** "```\n" + "\n```" around a code block. */
const FENCE_OVERHEAD = 8;
/** Short fields are shown side by side. */
const INLINE_MAX_CHARS = 40;

/** Backslash-escape Discord markdown so job names like my_run_v2 are not turned italic. */
export function escapeDiscordMarkdown(s: string): string {
  return s
    .replace(/([\\*_~`|[\]])/g, '\\$1')
    .replace(/^(\s*)([>#-])/gm, '$1\\$2');
}

/** A code block of `lines` within `budget` characters, keeping the last lines (or the first). */
export function codeBlock(lines: readonly string[], budget: number, keep: 'last' | 'first' = 'last'): string {
  const safe = lines.map((l) => neutralizeBackticks(l.replace(/\r/g, '')));
  const inner = budget - FENCE_OVERHEAD;
  if (inner <= 0) return '';
  const full = safe.join('\n');
  if (full.length <= inner) return '```\n' + full + '\n```';
  if (keep === 'first') {
    const marker = '…';
    if (inner < marker.length + 2) return '';
    return '```\n' + cutEndToFit(full, inner - marker.length - 1) + '\n' + marker + '\n```';
  }
  // Leave room for a first line saying how many lines were cut.
  const markerFor = (n: number) => `… ${plural(n, 'earlier line')} cut`;
  const reserve = markerFor(safe.length).length + 1;
  const { lines: kept, omitted } = keepLastLines(safe, Math.max(0, inner - reserve));
  const body = omitted > 0 ? [markerFor(omitted), ...kept].join('\n') : kept.join('\n');
  return '```\n' + cutEndToFit(body, inner) + '\n```';
}

function fieldText(s: string, max: number): string {
  const t = truncate(escapeDiscordMarkdown(s.trim()), max);
  return t.trim() ? t : BLANK;
}

function validTimestamp(ts: string | undefined): string | undefined {
  if (!ts) return undefined;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function embedFields(m: Message, budget: number): APIEmbedField[] {
  const all = m.fields ?? [];
  const out: APIEmbedField[] = [];
  let used = 0;
  const more = (n: number): APIEmbedField => ({ name: '…', value: `${plural(n, 'more field')} not shown`, inline: false });
  const moreCost = 1 + more(all.length).value.length;
  for (let i = 0; i < all.length; i++) {
    const f = all[i]!;
    const isLast = i === all.length - 1;
    // With more than 25 fields, the 25th slot says how many were left out.
    if (all.length > DISCORD_LIMITS.embedFields && out.length >= DISCORD_LIMITS.embedFields - 1) break;
    const room = budget - used - (isLast ? 0 : moreCost);
    if (room <= 1) break;
    const name = fieldText(f.name, Math.min(DISCORD_LIMITS.fieldName, Math.max(1, Math.floor(room / 4))));
    const valueRoom = Math.min(DISCORD_LIMITS.fieldValue, room - name.length);
    // A value cut to a stub says nothing: leave it (and the rest) to the "N more" line.
    if (valueRoom < Math.min(20, f.value.length + 1)) break;
    const value = fieldText(f.value, valueRoom);
    const short = name.length <= 32 && value.length <= INLINE_MAX_CHARS && !value.includes('\n');
    out.push({ name, value, inline: f.inline !== false && short });
    used += name.length + value.length;
  }
  const omitted = all.length - out.length;
  if (omitted > 0) {
    const m2 = more(omitted);
    if (used + m2.name.length + m2.value.length <= budget) out.push(m2);
  }
  return out;
}

function descriptionHead(m: Message): { text: string; table: string[] } {
  const parts: string[] = [];
  if (m.summary) parts.push(escapeDiscordMarkdown(m.summary));
  for (const d of m.diagnosis ?? []) {
    const quoted = escapeDiscordMarkdown(d.line)
      .split('\n')
      .map((l) => `> ${l}`)
      .join('\n');
    const hint = d.hint ? `\n*${escapeDiscordMarkdown(d.hint)}*` : '';
    parts.push(`**${escapeDiscordMarkdown(d.pattern)}** — ${escapeDiscordMarkdown(d.description)}\n${quoted}${hint}`);
  }
  const table = m.table && m.table.columns.length ? formatTable(m.table).split('\n') : [];
  return { text: parts.join('\n\n'), table };
}

/** The description within `budget`: summary and diagnosis, table, then the log tail. */
function description(m: Message, budget: number): string {
  const { text, table } = descriptionHead(m);
  const tail = m.logTail ?? [];
  const join = (...p: string[]) => p.filter(Boolean).join('\n\n');
  const tableFull = table.length ? codeBlock(table, Infinity) : '';
  const tailFull = tail.length ? codeBlock(tail, Infinity) : '';
  const full = join(text, tableFull, tailFull);
  if (full.length <= budget) return full;

  // Too long. Each kept part costs a "\n\n" separator (over-reserved by one, harmlessly).
  // The tail gets what the head leaves, but at least a third of the room.
  const sep = 2;
  const headFull = (text ? text.length + sep : 0) + (tableFull ? tableFull.length + sep : 0);
  const tailRoom = tail.length ? Math.min(tailFull.length, Math.max(Math.floor(budget / 3), budget - headFull - sep)) : 0;
  let room = budget - (tail.length ? tailRoom + sep : 0);
  // Summary and diagnosis before the table; the table keeps at least a third of the head room.
  const tableReserve = tableFull ? Math.min(tableFull.length, Math.floor(room / 3)) + sep : 0;
  const textKept = text ? cutEndToFit(text, Math.max(0, room - tableReserve - sep)) : '';
  room -= textKept ? textKept.length + sep : 0;
  const tableKept = tableFull ? codeBlock(table, room - sep, 'first') : '';
  room -= tableKept ? tableKept.length + sep : 0;
  const tailKept = tail.length ? codeBlock(tail, tailRoom + Math.max(0, room)) : '';
  const out = join(textKept, tableKept, tailKept);
  // Cannot happen with the reservations above; a guard so the limit holds whatever the input.
  return out.length <= budget ? out : cutEndToFit(join(textKept, tableKept), budget);
}

/** Sum of the characters Discord counts toward the 6000 limit of one embed. */
export function embedSize(e: APIEmbed): number {
  let n = (e.title ?? '').length + (e.description ?? '').length + (e.footer?.text ?? '').length + (e.author?.name ?? '').length;
  for (const f of e.fields ?? []) n += f.name.length + f.value.length;
  return n;
}

/** Render a message as a Discord webhook body that always fits Discord's limits. */
export function renderDiscord(m: Message, opts: DiscordRenderOptions = {}): RESTPostAPIWebhookWithTokenJSONBody {
  const title = truncate(m.title.replace(/\s+/g, ' ').trim(), DISCORD_LIMITS.embedTitle) || undefined;
  // Footers show no markdown: the hints' commands go in as plain text.
  const foot = [m.footer?.trim(), ...(m.hints ?? []).map((h) => hintText(h, (opts.renderHint ?? discordHint)(h)))].filter((x): x is string => !!x).join(' · ');
  const footerText = foot ? truncate(foot, Math.min(DISCORD_LIMITS.footerText, 1000)) : '';
  const room = DISCORD_LIMITS.embedTotal - (title?.length ?? 0) - footerText.length;

  const fullDesc = description(m, DISCORD_LIMITS.embedDescription);
  const allFields = embedFields(m, room);
  const fieldsWanted = allFields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  // Description first up to half the room; fields get what is left, then the description takes
  // back whatever the fields did not use.
  const descCap = Math.min(fullDesc.length, Math.max(room - fieldsWanted, Math.floor(room / 2)));
  const fields = fieldsWanted + descCap <= room ? allFields : embedFields(m, room - descCap);
  const fieldsUsed = fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const desc = description(m, Math.min(DISCORD_LIMITS.embedDescription, room - fieldsUsed));

  const embed: APIEmbed = { color: DISCORD_COLOURS[m.severity] };
  if (title) embed.title = title;
  if (desc) embed.description = desc;
  if (fields.length) embed.fields = fields;
  if (footerText) embed.footer = { text: footerText };
  const ts = validTimestamp(m.timestamp);
  if (ts) embed.timestamp = ts;

  const body: RESTPostAPIWebhookWithTokenJSONBody = {
    embeds: [embed],
    // Nothing in a message may ping anyone: log lines can contain @everyone or <@id>.
    allowed_mentions: { parse: [] },
  };
  if (opts.username) body.username = truncate(opts.username, DISCORD_LIMITS.username);
  return body;
}
