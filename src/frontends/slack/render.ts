// Message → Slack incoming-webhook body: a `text` fallback (notifications, old clients) plus Block
// Kit blocks. Every part is cut to Slack's documented limits (header 150, section text 3000, ≤10
// fields of ≤2000, ≤10 context elements, ≤50 blocks), so a message is never rejected for length.
// &, < and > are escaped in all mrkdwn, as Slack requires; the log tail is a code block cut from
// the top so its last lines survive.
import type { ContextBlock, HeaderBlock, KnownBlock, MrkdwnElement, SectionBlock } from '@slack/types';
import { hintText, type Message, type MessageHint } from '../../model/message.js';
import { keepLastLines, plural, truncate } from '../../lib/format.js';
import { formatLocalTime } from '../../lib/time.js';
import { formatTable, neutralizeBackticks } from '../text/render.js';

export const SLACK_LIMITS = {
  /** Top-level text; Slack truncates past 40,000, notifications show far less. */
  text: 3000,
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
} as const;

/** The JSON body of a Slack incoming-webhook POST. */
export interface SlackWebhookBody {
  text: string;
  blocks: KnownBlock[];
  unfurl_links: boolean;
  unfurl_media: boolean;
}

const SEVERITY_EMOJI = { success: ':white_check_mark:', failure: ':x:', warning: ':warning:', info: ':information_source:' } as const;

/** Escape the three characters Slack's mrkdwn reserves for links and mentions. */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cut escaped text to `max` without leaving half an entity ("&am…"). */
export function truncateEscaped(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  let cut = truncate(escaped, max);
  // A cut inside "&amp;" / "&lt;" / "&gt;" leaves "&a…" etc.: drop the partial entity.
  cut = cut.replace(/&[a-z]{0,3}…$/, '…');
  return cut;
}

function mrkdwn(text: string): MrkdwnElement {
  return { type: 'mrkdwn', text };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(text) };
}

const codeLines = (lines: readonly string[]) => lines.map((l) => escapeSlack(neutralizeBackticks(l.replace(/\r/g, ''))));
/** Room for the lines inside a ``` block of `max` characters ("```\n" + "\n```"). */
const codeRoom = (max: number) => max - 8;

/** Whether a log tail shows whole in one section (else its first lines are cut). */
export function logTailFits(lines: readonly string[]): boolean {
  return codeLines(lines).join('\n').length <= codeRoom(SLACK_LIMITS.sectionText);
}

/** A ``` block of `lines` within `max` characters (escaped), keeping the last lines or the first. */
function codeSection(lines: readonly string[], max: number, keep: 'last' | 'first'): string {
  const safe = codeLines(lines);
  const inner = codeRoom(max);
  const full = safe.join('\n');
  if (full.length <= inner) return '```\n' + full + '\n```';
  if (keep === 'first') {
    const kept: string[] = [];
    let used = 2; // the "\n…" marker
    for (const l of safe) {
      if (used + l.length + 1 > inner) break;
      kept.push(l);
      used += l.length + 1;
    }
    if (kept.length === 0) kept.push(truncateEscaped(safe[0] ?? '', Math.max(1, inner - 2)));
    return '```\n' + [...kept, '…'].join('\n') + '\n```';
  }
  const markerFor = (n: number) => `… ${plural(n, 'earlier line')} cut`;
  const reserve = markerFor(safe.length).length + 1;
  const { lines: kept, omitted } = keepLastLines(safe, inner - reserve);
  // A line cut from its start may begin inside an entity ("mp;"): harmless, it shows as text.
  const body = omitted > 0 ? [markerFor(omitted), ...kept].join('\n') : kept.join('\n');
  return '```\n' + body + '\n```';
}

/** A hint in Slack's syntax, one slash command with subcommands: "/flurm best slurm=true". */
export function slackHint(h: MessageHint): string {
  return ['/flurm', h.command, ...Object.entries(h.args ?? {}).map(([k, v]) => `${k}=${String(v)}`)].join(' ');
}

function contextBlock(m: Message): ContextBlock | undefined {
  const elements: MrkdwnElement[] = [];
  const foot = [m.footer, ...(m.hints ?? []).map((h) => hintText(h, `\`${slackHint(h)}\``))].filter((x): x is string => !!x).join(' · ');
  if (foot) elements.push(mrkdwn(truncateEscaped(escapeSlack(foot), SLACK_LIMITS.fieldText)));
  if (m.timestamp && Number.isFinite(Date.parse(m.timestamp))) {
    const unix = Math.floor(Date.parse(m.timestamp) / 1000);
    const fallback = escapeSlack(formatLocalTime(unix * 1000));
    // Shown in each reader's own time zone; the fallback is for clients that cannot.
    elements.push(mrkdwn(`<!date^${unix}^{date_short_pretty} {time_secs}|${fallback}>`));
  }
  return elements.length ? { type: 'context', elements: elements.slice(0, SLACK_LIMITS.contextElements) } : undefined;
}

/** Render a message as a Slack incoming-webhook body that always fits Slack's limits. */
export function renderSlack(m: Message): SlackWebhookBody {
  const blocks: KnownBlock[] = [];
  const title = m.title.replace(/\s+/g, ' ').trim();
  if (title) {
    const header: HeaderBlock = { type: 'header', text: { type: 'plain_text', text: truncate(title, SLACK_LIMITS.headerText), emoji: true } };
    blocks.push(header);
  }
  if (m.summary?.trim()) blocks.push(section(truncateEscaped(escapeSlack(m.summary), SLACK_LIMITS.sectionText)));

  // Fields, ten to a section. Reserve block slots for what follows (diagnosis, table, tail, context).
  const after = (m.diagnosis?.length ? 1 : 0) + (m.table?.columns.length ? 1 : 0) + (m.logTail?.length ? 1 : 0) + 1;
  const fieldSlots = Math.max(0, SLACK_LIMITS.blocks - blocks.length - after);
  const fields = (m.fields ?? []).map((f) => {
    const name = truncateEscaped(escapeSlack(f.name.trim()), 200);
    const value = truncateEscaped(escapeSlack(f.value.trim()), SLACK_LIMITS.fieldText - name.length - 3);
    return mrkdwn(`*${name}*\n${value || '—'}`);
  });
  const maxFields = fieldSlots * SLACK_LIMITS.sectionFields;
  if (fields.length > maxFields && maxFields > 0) {
    fields.splice(maxFields - 1, fields.length, mrkdwn(`_${fields.length - maxFields + 1} more fields not shown_`));
  }
  for (let i = 0; i < fields.length && i < maxFields; i += SLACK_LIMITS.sectionFields) {
    blocks.push({ type: 'section', fields: fields.slice(i, i + SLACK_LIMITS.sectionFields) });
  }

  if (m.diagnosis?.length) {
    const text = m.diagnosis
      .map((d) => {
        const quoted = escapeSlack(d.line).split('\n').map((l) => `> ${l}`).join('\n');
        return `*${escapeSlack(d.pattern)}* — ${escapeSlack(d.description)}\n${quoted}${d.hint ? `\n_${escapeSlack(d.hint)}_` : ''}`;
      })
      .join('\n');
    blocks.push(section(truncateEscaped(text, SLACK_LIMITS.sectionText)));
  }
  if (m.table && m.table.columns.length) {
    blocks.push(section(codeSection(formatTable(m.table).split('\n'), SLACK_LIMITS.sectionText, 'first')));
  }
  if (m.logTail?.length) blocks.push(section(codeSection(m.logTail, SLACK_LIMITS.sectionText, 'last')));
  const ctx = contextBlock(m);
  if (ctx) blocks.push(ctx);

  // The fallback text is what phone notifications show: title and summary.
  const fallback = [title, m.summary?.trim()].filter(Boolean).join(' — ') || 'flurm notification';
  return {
    text: `${SEVERITY_EMOJI[m.severity]} ${truncateEscaped(escapeSlack(fallback), SLACK_LIMITS.text - 30)}`,
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
    unfurl_links: false,
    unfurl_media: false,
  };
}

