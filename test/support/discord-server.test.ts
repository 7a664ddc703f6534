// The local Discord must speak the protocol the real clients speak (@discordjs/core, ws, rest) and
// refuse what Discord refuses, or the bot's tests prove nothing. Every test drives the real
// libraries against it and asserts what a user of the server (a bot test) would notice.
import { Client, type API } from '@discordjs/core';
import { DiscordAPIError, REST } from '@discordjs/rest';
import { WebSocketManager, WebSocketShardEvents } from '@discordjs/ws';
import {
  ApplicationCommandOptionType,
  ButtonStyle,
  ComponentType,
  GatewayDispatchEvents,
  GatewayIntentBits,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  Routes,
  type APIInteraction,
  type APIMessage,
  type RESTPutAPIApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { afterEach, describe, expect, it } from 'vitest';
import { startDiscordServer, type DiscordServer, type DiscordServerOptions } from './discord-server.js';

const ALICE = '1180000000000001001';
const BOB = '1180000000000001002';

const COMMANDS: RESTPutAPIApplicationCommandsJSONBody = [
  {
    name: 'best',
    description: 'The best free node for a job',
    options: [
      { type: ApplicationCommandOptionType.Integer, name: 'cpus', description: 'CPUs needed', required: true, min_value: 1 },
      { type: ApplicationCommandOptionType.String, name: 'node', description: 'A node', autocomplete: true },
    ],
  },
  { name: 'jobs', description: 'Your jobs', dm_permission: true },
];

interface Bot {
  srv: DiscordServer;
  rest: REST;
  gateway: WebSocketManager;
  client: Client;
  /** Errors the gateway emitted (fatal closes). */
  gatewayErrors: Error[];
  /** The interactions the bot received, oldest first. */
  received: APIInteraction[];
  /** Answers each interaction; errors of the REST calls land in `errors`. */
  onInteraction(fn: (i: APIInteraction, api: API) => Promise<unknown>): void;
  errors: unknown[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function boot(opts: DiscordServerOptions = {}, { intents = 0, connect = true } = {}): Promise<Bot> {
  const srv = await startDiscordServer({ heartbeatIntervalMs: 1000, users: [{ id: ALICE, username: 'alice' }, { id: BOB, username: 'bob' }], ...opts });
  cleanups.push(() => srv.close());
  const rest = new REST({ version: '10', api: `${srv.url}/api` }).setToken(srv.token);
  const gateway = new WebSocketManager({ token: srv.token, intents, rest });
  cleanups.push(async () => {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
    // @discordjs/ws can hang in destroy() when it comes while a shard still waits for READY; a test
    // must not do that (wait for the client's own ready), and this says so instead of hanging.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('gateway.destroy() hung: destroyed while the shard waited for READY?')), 5000);
    });
    try {
      await Promise.race([gateway.destroy(), hung]);
    } finally {
      clearTimeout(timer);
    }
  });
  const gatewayErrors: Error[] = [];
  gateway.on(WebSocketShardEvents.Error, (e: Error) => void gatewayErrors.push(e));
  const client = new Client({ rest, gateway });
  const received: APIInteraction[] = [];
  const errors: unknown[] = [];
  let handler: ((i: APIInteraction, api: API) => Promise<unknown>) | undefined;
  client.on(GatewayDispatchEvents.InteractionCreate, ({ data, api }) => {
    received.push(data);
    void handler?.(data, api).catch((e: unknown) => void errors.push(e));
  });
  if (connect) {
    await gateway.connect();
    await srv.waitForReady();
  }
  return { srv, rest, gateway, client, gatewayErrors, received, errors, onInteraction: (fn) => void (handler = fn) };
}

async function withCommands(b: Bot): Promise<void> {
  await b.rest.put(Routes.applicationGuildCommands(b.srv.applicationId, b.srv.guildIds[0]!), { body: COMMANDS });
}

/** The DiscordAPIError a promise rejects with. */
async function apiError(p: Promise<unknown>): Promise<DiscordAPIError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DiscordAPIError);
  return e as DiscordAPIError;
}

describe('gateway', () => {
  it('connects the real WebSocketManager: READY with the session, then heartbeats acked (also when the server asks)', async () => {
    const readies: Array<{ session_id: string; user: { id: string } }> = [];
    const b = await boot({}, { connect: false });
    b.client.on(GatewayDispatchEvents.Ready, ({ data }) => void readies.push(data));
    const beats: number[] = [];
    b.gateway.on(WebSocketShardEvents.HeartbeatComplete, ({ latency }: { latency: number }) => void beats.push(latency));
    await b.gateway.connect();
    const session = await b.srv.waitForReady();
    expect(readies).toHaveLength(1);
    expect(readies[0]!.session_id).toBe(session.id);
    expect(readies[0]!.user.id).toBe(b.srv.botUserId);
    expect(b.srv.identifies).toBe(1);

    await b.srv.waitForHeartbeat(3000);
    await b.srv.waitFor(() => beats.length >= 1, 3000, 'the client to see its heartbeat acked');
    const before = beats.length;
    await b.srv.requestHeartbeat();
    await b.srv.waitFor(() => beats.length > before, 3000, 'the requested heartbeat acked at the client');
    expect(b.srv.frames.filter((f) => f.dir === 'out' && f.op === 11).length).toBe(b.srv.heartbeats);
    expect(b.gatewayErrors).toEqual([]);
  });

  it('refuses a privileged intent not enabled for the app with 4014, and the client gives up', async () => {
    const b = await boot({}, { connect: false, intents: GatewayIntentBits.Guilds | GatewayIntentBits.MessageContent });
    await expect(b.gateway.connect()).rejects.toThrow(/disallowed intents/i);
    expect(b.srv.closes.map((c) => c.code)).toEqual([4014]);
    expect(b.gatewayErrors[0]!.message).toMatch(/disallowed intents/i);
    expect(b.srv.closes[0]).toMatchObject({ by: 'server', reason: 'Disallowed intent(s).' });
    expect(b.srv.sessions).toEqual([]);
  });

  it('accepts the privileged intent once enabled, and sends GUILD_CREATE with the GUILDS intent', async () => {
    const guilds: string[] = [];
    const b = await boot({ privilegedIntents: GatewayIntentBits.MessageContent }, { connect: false, intents: GatewayIntentBits.Guilds | GatewayIntentBits.MessageContent });
    b.client.on(GatewayDispatchEvents.GuildCreate, ({ data }) => void guilds.push(data.id));
    await b.gateway.connect();
    await b.srv.waitFor(() => guilds.length === 1, 3000, 'GUILD_CREATE at the client');
    expect(guilds).toEqual([...b.srv.guildIds]);
  });

  it('a dropped socket (no close frame): the client RESUMEs and gets the dispatch sent while it was away', async () => {
    const b = await boot();
    const seen: string[] = [];
    b.client.on(GatewayDispatchEvents.MessageCreate, ({ data }) => void seen.push(data.content));
    b.srv.dropConnection();
    // The session has no connection now: this dispatch can only reach the bot by replay.
    expect(b.srv.sessions[0]!.connected).toBe(false);
    b.srv.dispatch(GatewayDispatchEvents.MessageCreate, { ...userMessage(b.srv.channelIds()[0]!), content: 'sent while away' });
    await b.srv.waitFor(() => seen.includes('sent while away'), 5000, 'the replayed dispatch at the client');
    expect(b.srv.resumes).toBe(1);
    expect(b.srv.identifies).toBe(1);
    expect(b.srv.connections).toBe(2);
    expect(b.srv.closes[0]!.by).toBe('drop');
    expect(b.srv.sessions).toMatchObject([{ state: 'ready', connected: true, resumes: 1 }]);
  });

  it('op 7 RECONNECT: the client reconnects and resumes the same session', async () => {
    const b = await boot();
    const resumed: number[] = [];
    b.gateway.on(WebSocketShardEvents.Resumed, () => void resumed.push(Date.now()));
    b.srv.sendReconnect();
    await b.srv.waitFor(() => resumed.length === 1, 5000, 'RESUMED at the client');
    expect(b.srv.resumes).toBe(1);
    expect(b.srv.identifies).toBe(1);
    // @discordjs/ws closes with 4200 to keep the session resumable.
    expect(b.srv.closes[0]).toMatchObject({ by: 'client', code: 4200 });
  });

  it('a resumable close (closeWith 4000) and op 9 (resumable) are resumed; op 9 (not resumable) forces a fresh IDENTIFY', async () => {
    const b = await boot();
    const readies: string[] = [];
    b.gateway.on(WebSocketShardEvents.Ready, ({ session_id }: { session_id: string }) => void readies.push(session_id));
    b.srv.closeWith(4000);
    await b.srv.waitFor(() => b.srv.resumes === 1 && b.srv.sessions[0]!.state === 'ready', 5000, 'a resume after 4000');
    b.srv.sendInvalidSession(true); // @discordjs/ws resumes on the same connection
    await b.srv.waitFor(() => b.srv.resumes === 2 && b.srv.sessions[0]!.state === 'ready', 5000, 'a resume after op 9 (true)');
    expect(b.srv.connections).toBe(2);
    const first = b.srv.sessions[0]!.id;
    b.srv.sendInvalidSession(false);
    // @discordjs/ws waits out Discord's identify rate (one per 5 s) before identifying again.
    await b.srv.waitFor(() => readies.length === 1, 10_000, 'a second READY at the client');
    expect(b.srv.identifies).toBe(2);
    expect(b.srv.sessions.map((s) => s.state)).toEqual(['invalid', 'ready']);
    expect(readies[0]).toBe(b.srv.sessions[1]!.id);
    expect(readies[0]).not.toBe(first);
    expect(b.srv.resumes).toBe(2);
  }, 20_000);
});

function userMessage(channelId: string): APIMessage {
  return {
    id: '1180000000000009999',
    channel_id: channelId,
    author: { id: ALICE, username: 'alice', discriminator: '0', global_name: null, avatar: null },
    content: '',
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
  };
}

describe('interactions', () => {
  it('a slash command with typed options, answered with type 4: final() is the reply, in the channel', async () => {
    const b = await boot();
    await withCommands(b);
    let callback: { resource?: { message?: { id: string } } } | undefined;
    b.onInteraction(async (i, api) => {
      callback = await api.interactions.reply(i.id, i.token, { content: 'n1 has 4 free CPUs', with_response: true });
    });
    const h = b.srv.command('best', { cpus: 4, node: 'n1' });
    const answer = await h.final();
    await b.srv.waitFor(() => callback, 3000, 'the callback answer at the bot');
    expect(callback!.resource!.message!.id).toBe(h.message!.id); // with_response=true: the message comes back
    expect(answer).toMatchObject({ via: 'callback', callbackType: InteractionResponseType.ChannelMessageWithSource, ephemeral: false });
    expect(answer.data.content).toBe('n1 has 4 free CPUs');
    expect(h.latencyMs).toBeGreaterThan(0);
    const got = b.received[0]!;
    expect(got.type).toBe(InteractionType.ApplicationCommand);
    expect(got).toMatchObject({ version: 1, application_id: b.srv.applicationId, guild_id: b.srv.guildIds[0], member: { user: { id: ALICE } }, context: 0 });
    expect((got.data as { options: unknown }).options).toEqual([
      { name: 'cpus', type: ApplicationCommandOptionType.Integer, value: 4 },
      { name: 'node', type: ApplicationCommandOptionType.String, value: 'n1' },
    ]);
    const [msg] = b.srv.messages(b.srv.channelIds()[0], { includeInteractions: true });
    expect(msg).toMatchObject({ content: 'n1 has 4 free CPUs', interaction_metadata: { id: h.id, user: { id: ALICE } }, webhook_id: b.srv.applicationId });
    expect(b.srv.messages(b.srv.channelIds()[0])).toEqual([]); // not a Create Message
  });

  it('refuses in the helper what Discord would never send: unknown command, unknown option, wrong type, missing required', async () => {
    const b = await boot();
    await withCommands(b);
    expect(() => b.srv.command('nope')).toThrow(/no command \/nope/);
    expect(() => b.srv.command('best', { cpus: 1, gpus: 2 })).toThrow(/no option "gpus"/);
    expect(() => b.srv.command('best', { cpus: 'four' })).toThrow(/expected an integer/);
    expect(() => b.srv.command('best', { cpus: 0 })).toThrow(/below min_value 1/);
    expect(() => b.srv.command('best', { node: 'n1' })).toThrow(/required option "cpus"/);
    expect(b.received).toEqual([]);
  });

  it('defer (type 5, ephemeral), then edit @original: final() is the edit, a follow-up comes after', async () => {
    const b = await boot();
    await b.rest.put(Routes.applicationCommands(b.srv.applicationId), { body: COMMANDS }); // DMs see global commands only
    let followUp: APIMessage | undefined;
    b.onInteraction(async (i, api) => {
      await api.interactions.defer(i.id, i.token, { flags: MessageFlags.Ephemeral });
      await api.interactions.editReply(i.application_id, i.token, { content: 'your jobs: none' });
      followUp = await api.interactions.followUp(i.application_id, i.token, { content: 'and nothing queued', flags: MessageFlags.Ephemeral });
    });
    const h = b.srv.command('jobs', {}, { dm: true, userId: BOB });
    expect((await h.response).type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    const answer = await h.final();
    expect(answer).toMatchObject({ via: 'edit-original', callbackType: InteractionResponseType.DeferredChannelMessageWithSource, ephemeral: true });
    expect(answer.data.content).toBe('your jobs: none');
    expect(answer.message!.flags! & MessageFlags.Loading).toBe(0);
    await b.srv.waitFor(() => followUp, 3000, 'the follow-up at the bot');
    expect(followUp!.content).toBe('and nothing queued');
    expect(b.received[0]).toMatchObject({ user: { id: BOB }, context: 1 });
    expect(b.received[0]!.guild_id).toBeUndefined();
    expect(b.srv.dms(BOB).map((m) => m.content)).toEqual(['your jobs: none', 'and nothing queued']);
  });

  it('a second callback is refused with 40060; a callback after the deadline with 10062', async () => {
    const b = await boot({ interactionDeadlineMs: 300 });
    await withCommands(b);
    b.onInteraction(async (i, api) => {
      await api.interactions.reply(i.id, i.token, { content: 'first' });
      await api.interactions.reply(i.id, i.token, { content: 'second' });
    });
    const h1 = b.srv.command('jobs');
    await h1.final();
    await b.srv.waitFor(() => b.errors.length === 1, 3000, 'the second reply refused');
    const e = b.errors[0] as DiscordAPIError;
    expect(e).toBeInstanceOf(DiscordAPIError);
    expect([e.status, e.code, e.message]).toEqual([400, 40060, 'Interaction has already been acknowledged.']);

    // Late: the bot answers only once the server has given up on the interaction.
    b.onInteraction(async (i, api) => {
      await b.srv.waitFor(() => b.srv.interactions.find((x) => x.id === i.id)?.state === 'failed', 3000, 'the deadline');
      await api.interactions.reply(i.id, i.token, { content: 'too late' });
    });
    const h2 = b.srv.command('jobs');
    await expect(h2.final()).rejects.toThrow(/did not respond/);
    await b.srv.waitFor(() => b.errors.length === 2, 3000, 'the late reply refused');
    expect([(b.errors[1] as DiscordAPIError).status, (b.errors[1] as DiscordAPIError).code]).toEqual([404, 10062]);
    expect(b.srv.messages(undefined, { includeInteractions: true }).map((m) => m.content)).toEqual(['first']);
  });

  it('autocomplete: the focused option as typed, the choices answered; 26 choices refused with 50035', async () => {
    const b = await boot();
    await withCommands(b);
    const nodes = Array.from({ length: 30 }, (_, i) => `n${i + 1}`);
    let limit = 25;
    b.onInteraction(async (i, api) => {
      const opts = (i.data as { options: Array<{ name: string; value: string; focused?: boolean }> }).options;
      const typed = opts.find((o) => o.focused)!.value;
      await api.interactions.createAutocompleteResponse(i.id, i.token, { choices: nodes.filter((n) => n.startsWith(typed)).slice(0, limit).map((n) => ({ name: n, value: n })) });
    });
    const choices = await b.srv.autocomplete('best', { cpus: 2, node: 'n2' }, 'node');
    expect(choices.map((c) => c.value)).toEqual(['n2', 'n20', 'n21', 'n22', 'n23', 'n24', 'n25', 'n26', 'n27', 'n28', 'n29']);
    const sent = (b.received[0]!.data as { options: unknown[] }).options;
    expect(sent).toEqual([
      { name: 'cpus', type: ApplicationCommandOptionType.Integer, value: '2' }, // autocomplete carries what was typed
      { name: 'node', type: ApplicationCommandOptionType.String, value: 'n2', focused: true },
    ]);

    limit = 26;
    const refused = b.srv.autocomplete('best', { cpus: 2, node: 'n' }, 'node');
    await b.srv.waitFor(() => b.errors.length === 1, 3000, 'the oversized answer refused');
    const e = b.errors[0] as DiscordAPIError;
    expect(e.code).toBe(50035);
    expect(e.message).toMatch(/data\.choices\[BASE_TYPE_MAX_LENGTH\]/);
    await expect(refused).rejects.toThrow(/did not respond/);
  });

  it('a button press on a message the bot sent, answered with UPDATE_MESSAGE (type 7)', async () => {
    const b = await boot();
    const channel = b.srv.channelIds()[0]!;
    const posted = (await b.rest.post(Routes.channelMessages(channel), {
      body: {
        content: 'job 42 finished',
        components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Primary, custom_id: 'rerun:42', label: 'Run again' }] }],
      },
    })) as APIMessage;
    b.onInteraction((i, api) => api.interactions.updateMessage(i.id, i.token, { content: 'job 42 resubmitted as 43', components: [] }));
    const h = b.srv.button('rerun:42', { message: posted, userId: BOB });
    const answer = await h.final();
    expect(answer).toMatchObject({ via: 'callback', callbackType: InteractionResponseType.UpdateMessage });
    expect(b.received[0]).toMatchObject({ type: InteractionType.MessageComponent, data: { custom_id: 'rerun:42', component_type: ComponentType.Button }, message: { id: posted.id } });
    expect(b.srv.message(posted.id)).toMatchObject({ content: 'job 42 resubmitted as 43', components: [] });
    expect(b.srv.message(posted.id)!.edited_timestamp).not.toBeNull();
    expect(() => b.srv.button('rerun:42', { message: posted })).toThrow(/no component/); // the button is gone
  });
});

describe('interaction tokens and components', () => {
  it('@original before any callback is an unknown webhook (10015); after the token life (15 min, here 400 ms) 401 50027', async () => {
    const b = await boot({ interactionTokenTtlMs: 400 });
    await withCommands(b);
    b.onInteraction((i, api) => api.interactions.editReply(i.application_id, i.token, { content: 'too early' }));
    b.srv.command('jobs');
    await b.srv.waitFor(() => b.errors.length === 1, 3000, 'the early edit refused');
    expect([(b.errors[0] as DiscordAPIError).status, (b.errors[0] as DiscordAPIError).code]).toEqual([404, 10015]);

    b.onInteraction(async (i, api) => {
      const t = Date.now();
      await api.interactions.reply(i.id, i.token, { content: 'queued' });
      await b.srv.waitFor(() => Date.now() - t > 450, 2000, "the token's end");
      await api.interactions.editReply(i.application_id, i.token, { content: 'running' });
    });
    const h = b.srv.command('jobs');
    await b.srv.waitFor(() => b.errors.length === 2, 3000, 'the late edit refused');
    expect([(b.errors[1] as DiscordAPIError).status, (b.errors[1] as DiscordAPIError).code]).toEqual([401, 50027]);
    expect(h.message!.content).toBe('queued');
    expect(h.edits).toEqual([]);
  });

  it('a string select: the values chosen reach the bot; an ephemeral reply is final', async () => {
    const b = await boot();
    const posted = (await b.rest.post(Routes.channelMessages(b.srv.channelIds()[0]!), {
      body: {
        content: 'which node?',
        components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.StringSelect, custom_id: 'node', options: ['n1', 'n2'].map((n) => ({ label: n, value: n })) }] }],
      },
    })) as APIMessage;
    b.onInteraction((i, api) => api.interactions.reply(i.id, i.token, { content: `watching ${(i.data as { values: string[] }).values.join(',')}`, flags: MessageFlags.Ephemeral }));
    expect(() => b.srv.select('node', ['n9'], { message: posted })).toThrow(/no option "n9"/);
    const h = b.srv.select('node', ['n2'], { message: posted, userId: BOB });
    const answer = await h.final();
    expect(answer).toMatchObject({ ephemeral: true, data: { content: 'watching n2' } });
    expect(b.received[0]).toMatchObject({ data: { custom_id: 'node', component_type: ComponentType.StringSelect, values: ['n2'] }, member: { user: { id: BOB } } });
    expect(b.srv.messages(undefined, { includeInteractions: true }).find((m) => m.content === 'watching n2')!.flags).toBe(MessageFlags.Ephemeral);
  });
});

describe('REST', () => {
  it('bulk overwrite: stored with ids kept across writes; invalid commands refused with 50035 naming the field', async () => {
    const b = await boot();
    const guild = b.srv.guildIds[0]!;
    const first = (await b.rest.put(Routes.applicationGuildCommands(b.srv.applicationId, guild), { body: COMMANDS })) as Array<{ id: string; name: string; version: string; application_id: string }>;
    expect(first.map((c) => c.name)).toEqual(['best', 'jobs']);
    expect(first[0]).toMatchObject({ application_id: b.srv.applicationId, guild_id: guild });
    const again = (await b.rest.put(Routes.applicationGuildCommands(b.srv.applicationId, guild), { body: COMMANDS })) as typeof first;
    expect(again.map((c) => [c.id, c.version])).toEqual(first.map((c) => [c.id, c.version]));
    expect(b.srv.commandWrites).toBe(2);
    expect(b.srv.commandCreates(guild)).toBe(2); // the same names again are not new creates

    const bad = [
      { name: 'Best', description: 'uppercase' },
      { name: 'ok', description: 'x', options: [{ type: 3, name: 'a', description: 'a' }, { type: 3, name: 'b', description: 'b', required: true }] },
      { name: 'choices', description: 'x', options: [{ type: 4, name: 'n', description: 'n', choices: [{ name: 'one', value: 'one' }] }] },
      { name: 'len', description: 'x', options: [{ type: 4, name: 'n', description: 'n', max_length: 5 }] },
    ];
    const e = await apiError(b.rest.put(Routes.applicationGuildCommands(b.srv.applicationId, guild), { body: bad }));
    expect([e.status, e.code]).toEqual([400, 50035]);
    expect(e.message).toContain('0.name[APPLICATION_COMMAND_INVALID_NAME]: Command name is invalid');
    expect(e.message).toContain('1.options[APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID]');
    expect(e.message).toContain('2.options[0].choices[0].value[NUMBER_TYPE_COERCE]');
    expect(e.message).toContain('3.options[0].max_length[APPLICATION_COMMAND_OPTION_LENGTH_INVALID]');
    expect(b.srv.commands(guild).map((c) => c.id)).toEqual(first.map((c) => c.id)); // nothing changed
  });

  it('counts daily command creates and refuses past the limit with 30034', async () => {
    const b = await boot({ commandCreatesPerDay: 3 });
    const route = Routes.applicationCommands(b.srv.applicationId);
    const cmd = (name: string) => ({ name, description: name });
    await b.rest.put(route, { body: [cmd('a'), cmd('b')] });
    const e = await apiError(b.rest.put(route, { body: [cmd('a'), cmd('c'), cmd('d')] }));
    expect([e.status, e.code]).toEqual([400, 30034]);
    expect(b.srv.commands().map((c) => c.name)).toEqual(['a', 'b']);
    await b.rest.put(route, { body: [cmd('a'), cmd('c')] }); // one create: the third of the day
    expect(b.srv.commandCreates()).toBe(3);
  });

  it('DM with nonce + enforce_nonce sent twice: one message, the second answer is the first message', async () => {
    const b = await boot();
    const dm = (await b.rest.post(Routes.userChannels(), { body: { recipient_id: ALICE } })) as { id: string; type: number };
    expect(dm.type).toBe(1);
    expect(((await b.rest.post(Routes.userChannels(), { body: { recipient_id: ALICE } })) as { id: string }).id).toBe(dm.id);
    const body = { content: 'job 7 done', nonce: 'job7-end', enforce_nonce: true };
    const one = (await b.rest.post(Routes.channelMessages(dm.id), { body })) as APIMessage;
    const two = (await b.rest.post(Routes.channelMessages(dm.id), { body })) as APIMessage;
    expect(two.id).toBe(one.id);
    expect(b.srv.dms(ALICE)).toHaveLength(1);
    expect(b.srv.dms(ALICE)[0]).toMatchObject({ content: 'job 7 done', nonce: 'job7-end' });
    expect(b.srv.requests.filter((r) => r.note === 'nonce-duplicate')).toHaveLength(1);
    const three = (await b.rest.post(Routes.channelMessages(dm.id), { body: { ...body, enforce_nonce: false } })) as APIMessage;
    expect(three.id).not.toBe(one.id); // without enforce_nonce a nonce does not deduplicate
  });

  it('a user who does not take DMs: 403 50007, nothing delivered', async () => {
    const b = await boot({ undmable: [BOB] });
    const dm = (await b.rest.post(Routes.userChannels(), { body: { recipient_id: BOB } })) as { id: string };
    const e = await apiError(b.rest.post(Routes.channelMessages(dm.id), { body: { content: 'hello' } }));
    expect([e.status, e.code, e.message]).toEqual([403, 50007, 'Cannot send messages to this user']);
    expect(b.srv.dms(BOB)).toEqual([]);
  });

  it('a scripted 429 with Retry-After 1 s: @discordjs/rest waits and retries by itself, the message exists once', async () => {
    const b = await boot();
    const channel = b.srv.channelIds()[0]!;
    b.srv.failNext('POST', `/channels/${channel}/messages`, [{ status: 429, retryAfter: 1 }]);
    const t0 = Date.now();
    const msg = (await b.rest.post(Routes.channelMessages(channel), { body: { content: 'lab: n3 is back' } })) as APIMessage;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    const posts = b.srv.requests.filter((r) => r.method === 'POST' && r.route.endsWith('/messages'));
    expect(posts.map((r) => [r.status, r.scripted])).toEqual([
      [429, true],
      [200, false],
    ]);
    expect(posts[1]!.atMs - posts[0]!.atMs).toBeGreaterThanOrEqual(1000);
    expect(b.srv.messages(channel).map((m) => m.id)).toEqual([msg.id]);
  });

  it('real buckets: @discordjs/rest reads X-RateLimit-* and queues instead of running into 429s', async () => {
    const b = await boot({ rateLimits: { dmMessages: { limit: 2, windowMs: 800 } } });
    const dm = (await b.rest.post(Routes.userChannels(), { body: { recipient_id: ALICE } })) as { id: string };
    const sent = await Promise.all([1, 2, 3].map((n) => b.rest.post(Routes.channelMessages(dm.id), { body: { content: `m${n}` } })));
    expect(sent).toHaveLength(3);
    const posts = b.srv.requests.filter((r) => r.route === `/channels/${dm.id}/messages`);
    expect(posts.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(posts[2]!.atMs - posts[0]!.atMs).toBeGreaterThanOrEqual(700); // the third waited for the window
    expect(b.srv.dms(ALICE)).toHaveLength(3);
  });

  it('files: multipart files[0] + payload_json accepted as an attachment; a file over 10 MiB refused with 413 40005', async () => {
    const b = await boot();
    const channel = b.srv.channelIds()[0]!;
    const data = Buffer.from('node,cpus\nn1,4\n');
    const msg = (await b.rest.post(Routes.channelMessages(channel), {
      body: { content: 'the report', attachments: [{ id: 0, filename: 'report.csv', description: 'free nodes' }] },
      files: [{ name: 'report.csv', data, contentType: 'text/csv' }],
    })) as APIMessage;
    expect(msg.attachments).toMatchObject([{ filename: 'report.csv', size: data.length, content_type: 'text/csv', description: 'free nodes' }]);
    expect(b.srv.requests.at(-1)!.body).toMatchObject({ payload_json: { content: 'the report' }, files: [{ field: 'files[0]', filename: 'report.csv', size: data.length }] });

    const big = Buffer.alloc(10 * 1024 * 1024 + 1);
    const e = await apiError(b.rest.post(Routes.channelMessages(channel), { body: { content: 'too big' }, files: [{ name: 'big.bin', data: big }] }));
    expect([e.status, e.code]).toEqual([413, 40005]);
    expect(b.srv.messages(channel)).toHaveLength(1);
  });

  it('embeds over the limits, bad components and flags: 50035 naming the field, nothing created', async () => {
    const b = await boot();
    const channel = b.srv.channelIds()[0]!;
    const post = (body: unknown) => apiError(b.rest.post(Routes.channelMessages(channel), { body }));
    expect((await post({ embeds: [{ title: 'x'.repeat(257) }] })).message).toContain('embeds[0].title[BASE_TYPE_MAX_LENGTH]');
    const big = { description: 'x'.repeat(4000) };
    expect((await post({ embeds: [big, big] })).message).toContain('embeds[MAX_EMBED_SIZE_EXCEEDED]');
    const button = (id: string) => ({ type: 2, style: 1, custom_id: id, label: 'b' });
    expect((await post({ content: 'x', components: [{ type: 1, components: [button('a'), button('a')] }] })).message).toContain('components[0].components[1].custom_id[COMPONENT_CUSTOM_ID_DUPLICATED]');
    expect((await post({ content: 'x', components: [{ type: 1, components: [{ type: 2, style: 5, custom_id: 'l', label: 'link' }] }] })).message).toContain('components[0].components[0].url');
    expect((await post({ content: 'x', flags: MessageFlags.Ephemeral })).message).toContain('flags[MESSAGE_FLAGS_INVALID]');
    expect((await post({ content: 'x', nonce: 'n'.repeat(26) })).message).toContain('nonce[BASE_TYPE_MAX_LENGTH]');
    expect((await post({})).code).toBe(50006);
    expect(b.srv.messages(channel)).toEqual([]);
  });

  it('the message was created but the answer never came (hang + commit): a retry with the nonce gets it, no duplicate', async () => {
    const b = await boot();
    const channel = b.srv.channelIds()[0]!;
    const impatient = new REST({ version: '10', api: `${b.srv.url}/api`, timeout: 300, retries: 0 }).setToken(b.srv.token);
    cleanups.push(async () => {
      impatient.clearHashSweeper();
      impatient.clearHandlerSweeper();
    });
    b.srv.failNext('POST', `/channels/${channel}/messages`, [{ hang: true, commit: true }]);
    const body = { content: 'job 5 ended', nonce: 'job5-end', enforce_nonce: true };
    await expect(impatient.post(Routes.channelMessages(channel), { body })).rejects.toThrow(/abort/i);
    expect(b.srv.messages(channel)).toHaveLength(1); // Discord has it; the client never saw a 2xx
    const retry = (await b.rest.post(Routes.channelMessages(channel), { body })) as APIMessage;
    expect(retry.id).toBe(b.srv.messages(channel)[0]!.id);
    expect(b.srv.messages(channel)).toHaveLength(1);
    expect(b.srv.requests.filter((r) => r.route.endsWith('/messages')).map((r) => [r.status, r.note])).toEqual([
      [undefined, undefined],
      [200, 'nonce-duplicate'],
    ]);
  });

  it('beforeRespond runs after the message was recorded and before the client has the answer', async () => {
    const b = await boot();
    const channel = b.srv.channelIds()[0]!;
    const order: string[] = [];
    let clientHasAnswer = false;
    let seenInHook: { messages: number; clientHasAnswer: boolean } | undefined;
    b.srv.beforeRespond(
      (r) => r.method === 'POST' && r.route === `/channels/${channel}/messages`,
      async () => {
        seenInHook = { messages: b.srv.messages(channel).length, clientHasAnswer };
        order.push('hook');
        await b.srv.waitFor(() => b.srv.messages(channel).length === 1, 1000);
      },
    );
    const msg = (await b.rest.post(Routes.channelMessages(channel), { body: { content: 'job 9 started' } }).then((m) => {
      clientHasAnswer = true;
      order.push('client');
      return m;
    })) as APIMessage;
    expect(seenInHook).toEqual({ messages: 1, clientHasAnswer: false });
    expect(order).toEqual(['hook', 'client']);
    expect(b.srv.messages(channel)[0]!.id).toBe(msg.id);
  });

  it('checks the bot token (401) and answers unknown routes 404 {code: 0}', async () => {
    const b = await boot({}, { connect: false });
    const wrong = new REST({ version: '10', api: `${b.srv.url}/api`, retries: 0 }).setToken('not-the-token');
    const e = await apiError(wrong.get(Routes.user('@me')));
    expect([e.status, e.code, e.message]).toEqual([401, 0, '401: Unauthorized']);
    const r = await fetch(`${b.srv.apiUrl}/no/such/route`, { headers: { authorization: `Bot ${b.srv.token}` } });
    expect([r.status, await r.json()]).toEqual([404, { message: '404: Not Found', code: 0 }]);
    expect(((await b.rest.get(Routes.user('@me'))) as { id: string }).id).toBe(b.srv.botUserId);
  });
});
