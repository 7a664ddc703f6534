#!/usr/bin/env node
// Targets: the Discord bot of a real `flurm hub` (docs/discord.md), against the local Discord of
// test/support/discord-server.ts (gateway + REST v10, run in this process):
//   (a) slash command → answer, 100 fresh nodes: `/status` and `/best gpus:1 mem:32G`, BENCH_ITER
//       (200) of each, dispatched one after another; the server's latencyMs (INTERACTION_CREATE
//       sent → final answer visible: the callback, or the @original edit after a defer).
//       p50 ≤ 50 ms. Context, same run: a trivial REST call (GET /users/@me) from this process.
//   (b) job end → DM, with the doorbell: `flurm run -q -t T -- true` as the linked unix user (the
//       one running the bench: the spool's owner), BENCH_RUNS (30) one after another, each after
//       a random 0–1 s pause; from the `end` event's ts (and from `flurm run`'s exit) to the
//       arrival (`atMs`) of the POST /channels/{dm}/messages carrying T. p50 ≤ 0.5 s, with the
//       default poll_interval_seconds (1 s) printed beside it.
//   (c) 100 users DMed at once, Discord's real rate limits on (`rateLimits: true`: 50 requests/s
//       global, 5 messages/5 s per DM channel; 429 past them). Needs root: 100 homes chowned to
//       uids 20001–20100 (no passwd entry: the hub names them uid20001…, src/lib/users.ts), each
//       linked in the config (`[users.uid200NN] discord = "…"`), each with one `end` line (a copy
//       of one `flurm run` wrote, new id/user/ts/title) appended to its own events file. Figures:
//       hub seeing the events → 100th DM created; 429 answers (target ≤ 5: "no 429 storm");
//       every user exactly one DM. Beside it, what 50 requests/s allows for 200 requests
//       (a DM channel + a message per user).
// One hub and server for (a)+(b), a fresh pair for (c). Lab, hub and server are removed at the
// end, also on error. About 35 s on this machine.
//
// The server is TypeScript: it is bundled with esbuild into bench/results/ (git-ignored, so its
// bare imports `ws` and discord-api-types resolve from this checkout's node_modules), imported,
// and the bundle deleted.
//
//   npm run build && node bench/discord.mjs      (BENCH_ITER=200, BENCH_RUNS=30, BENCH_USERS=100)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FLURM, configNumber, effectiveConfig, fmt, getJson, makeLab, median, pct, report, requireBuild, runMain, runProc, sleep, startHub, ulid, waitUntil, writeHubConfig, importTs, killedOnExit, latencyStats, msLine, prng, syntheticSnapshot } from './lib.mjs';

const ITER = Number(process.env.BENCH_ITER ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const USERS = Number(process.env.BENCH_USERS ?? 100);
const NODES = 100;
const WARMUP = 10;
const ME = os.userInfo().username;
const LINKED = '1180000000000001001'; // the local server's default user ("alice")

// Every hub this script started, killed on the way out whatever happens.
const hubs = killedOnExit();

const stats = latencyStats;
const sLine = (s) => `p50 ${fmt(s.p50_ms / 1000, 3)} s, p95 ${fmt(s.p95_ms / 1000, 3)} s, max ${fmt(s.max_ms / 1000, 3)} s (n=${s.n})`;
const isMessagePost = (r, channel) => r.method === 'POST' && r.route === `/channels/${channel}/messages`;

function discordToml(lab, srv, links) {
  const tokenFile = path.join(lab.root, 'discord-token');
  fs.writeFileSync(tokenFile, `${srv.token}\n`, { mode: 0o600 });
  fs.chmodSync(tokenFile, 0o600);
  return [
    `[discord]`,
    `token_file = "${tokenFile}"`,
    `guild_ids = ["${srv.guildIds[0]}"]`,
    `channel_id = "${srv.channelIds()[0]}"`,
    `api = "${srv.url}"`,
    ...Object.entries(links).flatMap(([user, id]) => [`[users.${JSON.stringify(user)}]`, `discord = "${id}"`]),
  ].join('\n');
}

async function botReady(hub) {
  await waitUntil(async () => {
    const d = (await getJson(`${hub.url}/healthz`)).discord;
    return d?.bot?.state === 'ready' && d.bot.commands?.registered;
  }, { timeoutMs: 20_000, everyMs: 50, what: 'the bot ready, its commands registered' });
}

runMain(async () => {
  requireBuild();
  const { startDiscordServer } = await importTs('test/support/discord-server.ts');
  const rep = report('discord');
  rep.header(`the Discord bot of a real hub against the local Discord: (a) ${ITER}× /status and /best on ${NODES} nodes, (b) ${RUNS} job ends → DM, (c) ${USERS} users DMed at once with Discord's rate limits`);
  const meta = { iterations: ITER, runs: RUNS, users: USERS };

  // ---- (a) and (b): one hub, one server (no rate limits: (b) DMs one user 30 times in ~30 s) ----
  {
    const lab = makeLab('flurm-bench-discord-');
    const srv = await startDiscordServer({ heartbeatIntervalMs: 5000 });
    let hub;
    try {
      const me = lab.home(ME);
      fs.mkdirSync(path.join(lab.cluster, 'nodes'), { recursive: true });
      const rand = prng(42);
      const snaps = Array.from({ length: NODES }, (_, i) => syntheticSnapshot(i, rand));
      const writeSnapshots = () => {
        for (const s of snaps) fs.writeFileSync(path.join(lab.cluster, 'nodes', `${s.host}.json`), JSON.stringify({ ...s, seq: s.seq++, ts: new Date().toISOString() }));
      };
      writeSnapshots();
      const cfg = writeHubConfig(lab, { poll: 1, extra: `[nodes]\npoll_interval_seconds = 1\n${discordToml(lab, srv, { [ME]: LINKED })}\n` });
      const effective = await effectiveConfig(cfg);
      const poll = configNumber(effective, 'poll_interval_seconds');
      hub = await startHub(lab, cfg);
      hubs.add(hub);
      await botReady(hub);
      // A node is fresh once the hub has seen its snapshot change (an agent writes every 15 s):
      // the hub reads the 100 files, then each is written again, as by a live agent.
      const fresh = async () => ((await getJson(`${hub.url}/api/v1/nodes?busy=0`)).nodes ?? []).filter((n) => n.state === 'fresh').length;
      await waitUntil(async () => ((await getJson(`${hub.url}/api/v1/nodes?busy=0`)).nodes ?? []).length === NODES, { timeoutMs: 20_000, what: `the hub to read all ${NODES} snapshots` });
      writeSnapshots();
      await waitUntil(async () => (await fresh()) === NODES, { timeoutMs: 20_000, what: `all ${NODES} nodes fresh` });

      // (a) Slash commands, one after another.
      const probe = srv.command('status', {});
      const sanity = await probe.final();
      const text = JSON.stringify(sanity.data);
      await sleep(300);
      const bestProbe = srv.command('best', { gpus: 1, mem: '32G' });
      const bestAnswer = await bestProbe.final();
      await sleep(300);
      const shape = (a, h) => `${a.data.embeds?.length ?? 0} embed(s), ${JSON.stringify(a.data.embeds ?? []).length} chars of JSON, ${h.followUps.length} follow-ups, via ${a.via}`;
      // How many of the nodes the user actually sees (rows of the status table, whole or cut).
      const seen = [sanity.data, ...probe.followUps].map((m) => JSON.stringify(m?.embeds ?? [])).join('');
      const rows = new Set(seen.match(/node\d{3}(?=  )/g) ?? []).size;
      rep.info('    context: the answers', `/status ${shape(sanity, probe)}, ${rows} of ${NODES} node rows shown; /best ${shape(bestAnswer, bestProbe)}`, { status_rows_shown: rows, status_follow_ups: probe.followUps.length });
      if (!text.includes(`${NODES} nodes: ${NODES} fresh`)) throw new Error(`/status does not say ${NODES} fresh nodes: ${text.slice(0, 300)}`);
      const kinds = [
        { key: 'status', label: '/status', name: 'status', options: {} },
        { key: 'best', label: '/best gpus:1 mem:32G', name: 'best', options: { gpus: 1, mem: '32G' } },
      ];
      for (const k of kinds) {
        const lat = [];
        let deferred = 0;
        for (let i = -WARMUP; i < ITER; i++) {
          const f = await srv.command(k.name, k.options).final();
          if (i < 0) continue;
          lat.push(f.latencyMs);
          if (f.callbackType === 5) deferred++;
        }
        const s = stats(lat);
        rep.check(`(a) ${k.label}, ${NODES} nodes: dispatch → answer visible`, `${msLine(s)}${deferred ? `, ${deferred} deferred` : ''}`, s, [{ key: 'p50_ms', op: '<=', limit: 50, unit: 'ms' }], { id: `discord.command.${k.key}` });
      }
      const stillFresh = await fresh();
      if (stillFresh !== NODES) console.log(`    (only ${stillFresh} of ${NODES} nodes still fresh after (a): the answers covered stale nodes too)`);
      // Context: what the transport alone costs, same server, same run.
      const rtt = [];
      for (let i = -WARMUP; i < ITER; i++) {
        const t0 = process.hrtime.bigint();
        const res = await fetch(`${srv.url}/api/v10/users/@me`, { headers: { authorization: `Bot ${srv.token}` } });
        await res.json();
        if (res.status !== 200) throw new Error(`GET /users/@me answered ${res.status}`);
        if (i >= 0) rtt.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const r = stats(rtt);
      rep.info('    context: a trivial REST call (GET /users/@me) from this process to the local server', msLine(r), r);

      // (b) Job end → DM, with the doorbell (FLURM_CLUSTER → hub.json).
      const spoolFile = path.join(me.events, 'node1.jsonl');
      const samples = [];
      let lost = 0;
      let dmChannel;
      for (let i = -2; i < RUNS; i++) {
        await sleep(Math.random() * 1000);
        const title = `bench-dm-${String(i + 2).padStart(4, '0')}`;
        const p = await runProc(process.execPath, [FLURM, 'run', '-q', '-t', title, '--', 'true'], { env: me.env });
        const exitedMs = Date.now();
        if (p.code !== 0) throw new Error(`flurm run exited ${p.code}: ${p.stderr}`);
        let req;
        try {
          req = await srv.waitFor(() => {
            dmChannel ??= srv.dmChannelId(LINKED);
            return dmChannel && srv.requests.find((q) => isMessagePost(q, dmChannel) && q.status === 200 && JSON.stringify(q.body).includes(title));
          }, 10_000, `the DM for ${title}`);
        } catch {
          lost++;
          console.log(`  ${title}: no DM within 10 s`);
          continue;
        }
        if (i < 0) continue;
        // The start carries the title; the end, written after the child exited, the same id.
        const events = fs.readFileSync(spoolFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
        const start = events.find((e) => e.type === 'start' && e.title === title);
        const end = events.find((e) => e.type === 'end' && e.id === start?.id);
        if (!end) throw new Error(`no end event for ${title} in ${spoolFile}`);
        samples.push({ title, endMs: Date.parse(end.ts), exitedMs, dmMs: req.atMs });
      }
      const fromEnd = stats(samples.map((s) => s.dmMs - s.endMs));
      const fromExit = stats(samples.map((s) => s.dmMs - s.exitedMs));
      const dms = srv.messages(dmChannel).length;
      rep.check(`(b) job end (end event ts) → DM at the server, doorbell, poll_interval_seconds = ${poll}${poll === 1 ? ' (the default)' : ''}`, `${sLine(fromEnd)}${lost ? `, ${lost} lost` : ''}`, { ...fromEnd, lost, poll_interval_seconds: poll }, [{ key: 'p50_ms', op: '<=', limit: 500, unit: 'ms' }], { id: 'discord.dm.latency' });
      rep.info('    from `flurm run` returned (its process closed) → DM (negative: the DM came first)', sLine(fromExit), fromExit);
      rep.info('    DMs in the channel / jobs run', `${dms} / ${RUNS + 2} (2 warm-up)`, { dms, jobs: RUNS + 2 });
    } finally {
      if (hub) await hub.stop();
      hubs.delete(hub);
      await srv.close();
      lab.cleanup();
    }
  }

  // ---- (c) 100 users at once, Discord's rate limits ----------------------------------------------
  if (process.getuid?.() !== 0) {
    rep.info(`(c) ${USERS} users DMed at once`, `skipped: needs root (to chown ${USERS} spools to ${USERS} uids); this run is ${ME}`, { skipped: 1 });
  } else {
    const lab = makeLab('flurm-bench-discord-c-');
    const srv = await startDiscordServer({ heartbeatIntervalMs: 5000, rateLimits: true });
    let hub;
    try {
      // A real `end` line to copy: `flurm run` into a scratch spool, no hub (no doorbell).
      const scratch = lab.home('template');
      const t = await runProc(process.execPath, [FLURM, 'run', '-q', '-t', 'template', '--', 'true'], { env: { ...scratch.env, FLURM_CLUSTER: path.join(lab.root, 'no-cluster'), FLURM_HUB_URL: 'http://127.0.0.1:1' } });
      if (t.code !== 0) throw new Error(`flurm run (template) exited ${t.code}: ${t.stderr}`);
      const lines = fs.readFileSync(path.join(scratch.events, 'node1.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const template = lines.find((e) => e.type === 'end');
      if (!template) throw new Error('flurm run wrote no end event');
      fs.rmSync(scratch.home, { recursive: true, force: true });

      const users = Array.from({ length: USERS }, (_, i) => {
        const uid = 20001 + i;
        return { uid, name: `uid${uid}`, discord: `11900000000${String(uid).padStart(7, '0')}`, file: path.join(lab.homes, `u${uid}`, '.flurm', 'events', 'node1.jsonl') };
      });
      for (const u of users) {
        const home = path.dirname(path.dirname(path.dirname(u.file)));
        fs.mkdirSync(path.dirname(u.file), { recursive: true, mode: 0o700 });
        fs.writeFileSync(u.file, '', { mode: 0o600 });
        for (const p of [home, path.dirname(path.dirname(u.file)), path.dirname(u.file), u.file]) fs.chownSync(p, u.uid, u.uid);
        fs.chmodSync(u.file, 0o600);
      }
      const cfg = writeHubConfig(lab, { poll: 1, extra: discordToml(lab, srv, Object.fromEntries(users.map((u) => [u.name, u.discord]))) + '\n' });
      hub = await startHub(lab, cfg);
      hubs.add(hub);
      await botReady(hub);
      const h0 = await getJson(`${hub.url}/healthz`);
      const events0 = h0.ingest?.events ?? 0;
      const firstReq = srv.requests.length;
      await sleep(1100); // the start-up requests' global window has passed

      // One end line per user, each in its own file (one write + fsync, as the writers do).
      const salt = process.pid;
      const writtenMs = Date.now();
      users.forEach((u, i) => {
        const ev = { ...template, id: ulid(writtenMs, i, salt), ts: new Date(writtenMs).toISOString(), user: u.name, host: 'node1', title: `bench-c-${u.name}` };
        const fd = fs.openSync(u.file, 'a');
        fs.writeSync(fd, JSON.stringify(ev) + '\n');
        fs.fsyncSync(fd);
        fs.closeSync(fd);
      });
      const writeDoneMs = Date.now();
      // When the hub has read them (healthz every 20 ms), and when the 100th DM is made.
      let seenFirstMs = null;
      let seenAllMs = null;
      const dmCount = () => users.filter((u) => {
        const ch = srv.dmChannelId(u.discord);
        return ch && srv.messages(ch).length > 0;
      }).length;
      const deadline = Date.now() + 90_000;
      for (;;) {
        const h = await getJson(`${hub.url}/healthz`);
        const n = (h.ingest?.events ?? 0) - events0;
        if (n > 0 && seenFirstMs === null) seenFirstMs = Date.now();
        if (n >= USERS && seenAllMs === null) seenAllMs = Date.now();
        if (dmCount() === USERS && (h.outbox?.pending ?? 0) === 0) break;
        if (Date.now() > deadline) {
          console.log(`  (c) gave up after 90 s: ${dmCount()} of ${USERS} users DMed, outbox ${JSON.stringify(h.outbox)}`);
          break;
        }
        await sleep(20);
      }
      await sleep(2000); // late retries, duplicates
      const reqs = srv.requests.slice(firstReq);
      const msgReqs = reqs.filter((r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.route));
      const made = msgReqs.filter((r) => r.status === 200 && r.note !== 'nonce-duplicate').sort((a, b) => a.atMs - b.atMs);
      const channelReqs = reqs.filter((r) => r.method === 'POST' && r.route === '/users/@me/channels');
      const all429 = srv.requests.filter((r) => r.status === 429);
      const global429 = all429.filter((r) => r.response?.global === true).length;
      const perUser = users.map((u) => {
        const ch = srv.dmChannelId(u.discord);
        return ch ? srv.messages(ch).length : 0;
      });
      const none = perUser.filter((n) => n === 0).length;
      const dup = perUser.filter((n) => n > 1).length;
      const lastDmMs = made.length >= USERS ? made[USERS - 1].atMs : NaN;
      const firstDmMs = made[0]?.atMs ?? NaN;
      const seenMs = Math.min(seenFirstMs ?? Infinity, channelReqs[0]?.atMs ?? Infinity);
      // Requests per second at the peak (REST below /api/v10 but interactions and webhooks: what the global limit counts).
      const authed = reqs.filter((r) => r.route && !r.route.startsWith('/interactions') && !r.route.startsWith('/webhooks'));
      let peak = 0;
      for (let i = 0, j = 0; i < authed.length; i++) {
        while (authed[i].atMs - authed[j].atMs >= 1000) j++;
        peak = Math.max(peak, i - j + 1);
      }
      const totalS = (lastDmMs - seenMs) / 1000;
      rep.info(
        `(c) ${USERS} linked users, one job end each: hub seeing the events → last (${USERS}th) DM created`,
        `${fmt(totalS, 2)} s   (best possible at Discord's 50 requests/s for ${2 * USERS} requests, a DM channel + a message each: ≈ ${fmt(Math.max(0, Math.ceil((2 * USERS) / 50) - 1), 0)} s on fixed 1 s windows, ${fmt((2 * USERS) / 50, 0)} s at a steady 50/s); written → seen ${fmt((seenMs - writtenMs) / 1000, 2)} s, all ${USERS} read after ${fmt(((seenAllMs ?? NaN) - writtenMs) / 1000, 2)} s, first DM at +${fmt((firstDmMs - seenMs) / 1000, 2)} s`,
        { total_s: totalS, best_possible_s: (2 * USERS) / 50, written_to_seen_s: (seenMs - writtenMs) / 1000, write_ms: writeDoneMs - writtenMs },
        { id: 'discord.dm.burst.time' },
      );
      rep.check(
        `(c) 429 answers from the local Discord (rate limits on)`,
        `${all429.length} (${global429} global, ${all429.length - global429} per-route); peak ${peak} REST requests in any 1 s (sliding; the server's 50/s windows are fixed); ${channelReqs.length} DM-channel creates, ${msgReqs.length} Create Message requests; invalid requests ${srv.invalidRequests}`,
        { count_429: all429.length, global_429: global429, peak_per_second: peak, channel_creates: channelReqs.length, message_posts: msgReqs.length },
        [{ key: 'count_429', op: '<=', limit: 5 }],
        { id: 'discord.dm.burst.429' },
      );
      rep.check(
        `(c) every user exactly one DM`,
        `${perUser.filter((n) => n === 1).length} of ${USERS} got exactly one; ${none} none, ${dup} more than one${dup ? ` (max ${Math.max(...perUser)})` : ''}`,
        { exactly_one: perUser.filter((n) => n === 1).length, none, duplicated: dup },
        [{ key: 'exactly_one', op: '>=', limit: USERS }],
        { id: 'discord.dm.burst.once' },
      );
      if (all429.length) {
        const first = all429[0];
        console.log(`    first 429: ${first.method} ${first.route} at +${fmt((first.atMs - seenMs) / 1000, 3)} s, retry_after ${first.response?.retry_after}, global ${first.response?.global}`);
      }
      meta.c = { seen_ms: seenMs, written_ms: writtenMs, last_dm_ms: lastDmMs, per_user: perUser };
    } finally {
      if (hub) await hub.stop();
      hubs.delete(hub);
      await srv.close();
      lab.cleanup();
    }
  }
  const [l1] = os.loadavg();
  console.log(`   load average at the end ${l1.toFixed(2)}`);
  rep.save(meta);
});
