// Slack incoming webhooks. Accepts the URL Slack shows:
//   https://hooks.slack.com/services/T…/B…/SECRET
// and the canonical form it is stored and shown as:
//   slack://T…/B…/SECRET[?api=BASE]
// `api=` replaces https://hooks.slack.com (tests: api=http://127.0.0.1:PORT; GovSlack:
// api=https://hooks.slack-gov.com, set automatically when such a URL is pasted).
import { renderSlack } from '../frontends/slack/render.js';
import type { Message } from '../model/message.js';
import { postJson } from './http.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { REDACTED, buildQuery, configError, parseApiBase, pathSegments, readQuery, rejectRedacted } from './url-helpers.js';

const KIND = 'slack';
const DEFAULT_API = 'https://hooks.slack.com';
const HOSTS = new Set(['hooks.slack.com', 'hooks.slack-gov.com']);
const ID_RE = /^[A-Z0-9]{2,40}$/;
const SECRET_RE = /^[A-Za-z0-9]{8,100}$/;
const FORMS = 'slack://T…/B…/SECRET or https://hooks.slack.com/services/T…/B…/SECRET';

interface SlackTarget {
  team: string;
  bot: string;
  secret: string;
  api?: string;
}

class SlackDestination implements Destination {
  readonly kind = KIND;
  constructor(private readonly t: SlackTarget) {}

  toUrl(opts: { redact?: boolean } = {}): string {
    const secret = opts.redact ? REDACTED : this.t.secret;
    return `slack://${this.t.team}/${this.t.bot}/${secret}` + buildQuery([['api', this.t.api]]);
  }

  async send(message: Message, ctx: SendContext): Promise<void> {
    await postJson(
      {
        url: `${this.t.api ?? DEFAULT_API}/services/${this.t.team}/${this.t.bot}/${this.t.secret}`,
        redactedUrl: this.toUrl({ redact: true }),
        service: 'Slack',
        json: renderSlack(message),
      },
      ctx,
    );
  }
}

function check(t: SlackTarget): SlackTarget {
  rejectRedacted(KIND, 'webhook secret', t.secret);
  if (!ID_RE.test(t.team) || !ID_RE.test(t.bot)) throw configError(KIND, `workspace and webhook ids must be upper-case letters and digits (expected ${FORMS})`);
  if (!SECRET_RE.test(t.secret)) throw configError(KIND, `the webhook secret must be letters and digits (expected ${FORMS})`);
  return t;
}

function parseSlack(url: URL): Destination {
  const seg = pathSegments(url);
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    if (seg[0] !== 'services' || seg.length !== 4) throw configError(KIND, `not an incoming-webhook URL (expected ${FORMS})`);
    readQuery(KIND, url, []);
    const api = url.hostname === 'hooks.slack.com' ? undefined : `https://${url.hostname}`;
    return new SlackDestination(check({ team: seg[1]!, bot: seg[2]!, secret: seg[3]!, api }));
  }
  if (url.username || url.password || url.port) throw configError(KIND, `unexpected user or port (expected ${FORMS})`);
  if (seg.length !== 2) throw configError(KIND, `expected ${FORMS}`);
  const q = readQuery(KIND, url, ['api']);
  const api = q.get('api');
  return new SlackDestination(
    check({ team: url.hostname, bot: seg[0]!, secret: seg[1]!, api: api === undefined ? undefined : parseApiBase(KIND, api) }),
  );
}

export const slackNotifier: Notifier = {
  name: KIND,
  schemes: ['slack'],
  help: 'slack://T…/B…/SECRET — or paste https://hooks.slack.com/services/T…/B…/SECRET',
  matches: (url) => url.protocol === 'https:' && HOSTS.has(url.hostname) && url.pathname.startsWith('/services/'),
  parse: parseSlack,
};
