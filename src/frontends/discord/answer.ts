// What the bot says, as Discord message bodies: a command's answer (its messages as embeds, packed
// within Discord's per-message limits: 10 embeds, 6000 characters over all of them, the rest in
// follow-ups), argument errors and refusals, /help, and the buttons a failure DM carries. Pure:
// no connection here (bot.ts sends), so it is tested on its own against the documented limits.
import type { APIActionRowComponent, APIButtonComponent, APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { Message } from '../../model/message.js';
import { splitTable } from '../text/render.js';
import { truncate } from '../../lib/format.js';
import { DISCORD_COLOURS, DISCORD_LIMITS, embedSize, renderDiscord } from './render.js';

/** The body of one reply, edit or follow-up: embeds and/or content, never pinging anyone. */
export interface BotBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: APIActionRowComponent<APIButtonComponent>[];
  allowed_mentions: { parse: []; users?: string[] };
  /** Uploaded with the message (multipart files[n]); `attachments` names each by its n. */
  files?: { name: string; data: Buffer; contentType?: string }[];
  attachments?: { id: number; filename: string; description?: string }[];
}

/**
 * The body with a picture attached as files[0] and shown as the image of the embed titled
 * `title` (or the first): `attachment://NAME`, as Discord refers to an upload.
 */
export function withPicture(body: BotBody, png: Buffer, name: string, title: string, description: string): BotBody {
  const embeds = (body.embeds ?? []).map((e) => ({ ...e }));
  const at = Math.max(0, embeds.findIndex((e) => e.title === truncate(title, DISCORD_LIMITS.embedTitle)));
  if (embeds[at]) embeds[at] = { ...embeds[at], image: { url: `attachment://${name}` } };
  return { ...body, embeds, files: [{ name, data: png, contentType: 'image/png' }], attachments: [{ id: 0, filename: name, description: truncate(description, 1024) }] };
}

/** A table part per embed: an embed's description holds 4096 characters. */
const DISCORD_TABLE_PART_CHARS = 3600;

/** Per message: 10 embeds, 6000 characters over all of them. */
export const MESSAGE_EMBEDS = 10;

/** An embed with nothing in it is refused by Discord: give it a description. */
function nonEmpty(e: APIEmbed): APIEmbed {
  if (e.title || e.description || e.fields?.length) return e;
  return { ...e, description: '\u200b' };
}

/** A command's messages as one or more bodies (the first is the reply, the rest follow-ups). */
export function answerBodies(messages: readonly Message[]): BotBody[] {
  const embeds = messages.flatMap((m) => splitTable(m, DISCORD_TABLE_PART_CHARS)).map((m) => nonEmpty(renderDiscord(m).embeds![0]!));
  const bodies: BotBody[] = [];
  let cur: APIEmbed[] = [];
  let size = 0;
  for (const e of embeds) {
    const n = embedSize(e);
    if (cur.length && (cur.length >= MESSAGE_EMBEDS || size + n > DISCORD_LIMITS.embedTotal)) {
      bodies.push({ embeds: cur, allowed_mentions: { parse: [] } });
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length) bodies.push({ embeds: cur, allowed_mentions: { parse: [] } });
  return bodies.length ? bodies : [{ content: 'Nothing to show.', allowed_mentions: { parse: [] } }];
}

/** A short answer: one embed with a title and text (errors, refusals, confirmations). */
export function noticeBody(title: string, text: string, severity: Message['severity'] = 'info'): BotBody {
  return {
    embeds: [{ color: DISCORD_COLOURS[severity], title: truncate(title, DISCORD_LIMITS.embedTitle), description: truncate(text, DISCORD_LIMITS.embedDescription) }],
    allowed_mentions: { parse: [] },
  };
}

/** Buttons a failure DM carries; the job id rides in each custom_id (Discord: 1–100 characters). */
export const BUTTON_PREFIX = 'flurm';
export type ButtonAction = 'log' | 'mute' | 'diag' | 'wf-cancel';

export function buttonId(action: ButtonAction, ref: string): string {
  return truncate(`${BUTTON_PREFIX}:${action}:${ref}`, 100);
}

export function parseButtonId(id: string): { action: ButtonAction; ref: string } | null {
  const m = /^flurm:(log|mute|diag|wf-cancel):(.{1,90})$/.exec(id);
  return m ? { action: m[1] as ButtonAction, ref: m[2]! } : null;
}

/** "Log", "Mute 1 h", "Diagnosis" under a failure DM (style 2: secondary). */
export function failureButtons(jobId: string, opts: { diagnosis: boolean }): APIActionRowComponent<APIButtonComponent>[] {
  const b = (action: ButtonAction, label: string): APIButtonComponent => ({ type: 2, style: 2, label, custom_id: buttonId(action, jobId) });
  return [{ type: 1, components: [b('log', 'Log'), b('mute', 'Mute 1 h'), ...(opts.diagnosis ? [b('diag', 'Diagnosis')] : [])] }];
}

/** A DM (or its lab-channel stand-in) for one outbox message, with the nonce that makes a resend harmless. */
export function dmBody(m: Message, opts: { nonce: string; buttons?: APIActionRowComponent<APIButtonComponent>[]; mention?: string; note?: string }): RESTPostAPIChannelMessageJSONBody {
  const r = renderDiscord(m);
  const content = opts.mention ? truncate(`<@${opts.mention}> ${opts.note ?? ''}`.trim(), DISCORD_LIMITS.content) : undefined;
  return {
    ...(content ? { content } : {}),
    embeds: r.embeds!.map(nonEmpty),
    ...(opts.buttons?.length ? { components: opts.buttons } : {}),
    // A mention in the lab channel pings the one person it is for, nobody else.
    allowed_mentions: opts.mention ? { parse: [], users: [opts.mention] } : { parse: [] },
    nonce: opts.nonce,
    enforce_nonce: true,
  };
}
