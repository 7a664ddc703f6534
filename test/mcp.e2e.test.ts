// `flurm mcp` as an agent meets it: the MCP SDK's own client over stdio, spawning the real CLI
// against a real hub with a real agent — the tool list with its schemas, the table's tools
// answering the CLI's facts, a bad argument and an unknown tool as error results, the caller's
// own job log, and wait_for_job released by a real job's end.
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { FLURM, getJson, killAll, makeLab, runFlurm, startFlurm, startHub, waitUntil, type HubProc, type Lab, type Proc } from './support/lab.js';

type Content = { type: string; text?: string; data?: string; mimeType?: string }[];

describe('flurm mcp (stdio)', () => {
  let lab: Lab;
  let hub: HubProc | null = null;
  let client: Client | null = null;
  const procs: Proc[] = [];

  afterEach(async () => {
    await client?.close();
    client = null;
    await killAll(procs);
    await hub?.stop();
    hub = null;
    lab?.cleanup();
  });

  it('lists the table as read-only tools with schemas; answers as the CLI does; errors name the field; job_log and wait_for_job work on the caller\'s jobs', async () => {
    lab = makeLab('flurm-mcp-');
    hub = await startHub(lab.hubConfig({ extra: '[nodes]\npoll_interval_seconds = 0.3\n' }));
    procs.push(startFlurm(['agent', '--interval', '1s', '--cluster', lab.cluster], { env: { ...process.env, FLURM_HOST: 'mcp1' } }));
    await waitUntil(async () => (await getJson<{ nodes: { host: string; state: string }[] }>(`${hub!.url}/api/v1/nodes`)).nodes.some((n) => n.host === 'mcp1' && n.state === 'fresh'), 20_000, 'mcp1 fresh');
    const alice = lab.home('alice');
    const env = { ...alice.env, FLURM_HUB_URL: hub.url, FLURM_WAIT_EVERY_MS: '50' } as Record<string, string>;

    client = new Client({ name: 'flurm-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [FLURM, 'mcp'], env, stderr: 'pipe' }));
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    // No acting tool without --allow-run.
    expect(names).toEqual(['best', 'heatmap', 'history', 'inspect', 'job_log', 'jobs', 'queue', 'report', 'status', 'top', 'users', 'wait_for_job']);
    const best = tools.find((t) => t.name === 'best')!;
    expect(best.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    expect(Object.keys((best.inputSchema as { properties: object }).properties)).toEqual(expect.arrayContaining(['cpus', 'mem', 'gpus']));
    expect(best.outputSchema).toMatchObject({ type: 'object', properties: { source: expect.anything(), result: expect.anything() } });

    // The same fact as the CLI: the best node for 1 MiB.
    const r = (await client.callTool({ name: 'best', arguments: { mem: '1M' } })) as { content: Content; structuredContent: { source: string; result: { chosen?: { host: string } } }; isError?: boolean };
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent.source).toBe('hub');
    expect(r.structuredContent.result.chosen?.host).toBe('mcp1');
    expect(r.content[0]!.text).toMatch(/Best node: mcp1/);
    const cli = JSON.parse((await runFlurm(['best', '--mem', '1M', '--json'], { env })).stdout) as { chosen: { host: string } };
    expect(cli.chosen.host).toBe('mcp1');

    // A bad argument and an unknown tool: error results that say what is wrong, and the server lives on.
    const bad = (await client.callTool({ name: 'best', arguments: { mem: '32Q' } })) as { content: Content; isError?: boolean };
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text).toMatch(/mem/);
    const unknown = (await client.callTool({ name: 'no-such-tool', arguments: {} })) as { content: Content; isError?: boolean };
    expect(unknown.isError).toBe(true);
    expect(unknown.content[0]!.text).toMatch(/no-such-tool/);

    // A job of the caller's, waited for while it runs, released by its end; then its log.
    const job = startFlurm(['run', '-t', 'mcp-waited', '--', 'sh', '-c', 'sleep 1.5; echo the-last-line; exit 3'], { env });
    procs.push(job);
    const id = await waitUntil(async () => (await getJson<{ jobs: { id: string; title?: string }[] }>(`${hub!.url}/api/v1/jobs?running=1`)).jobs.find((j) => j.title === 'mcp-waited')?.id, 10_000, 'the job running');
    const waited = (await client.callTool({ name: 'wait_for_job', arguments: { id: id.slice(0, 8), timeout_seconds: 30 } })) as { content: Content; structuredContent: { ended: boolean; job: { state: string; exit: number | null } } };
    expect(waited.structuredContent).toMatchObject({ ended: true, job: { state: 'failed', exit: 3 } });
    const log = (await client.callTool({ name: 'job_log', arguments: { id } })) as { content: Content; structuredContent: { lines: string[] } };
    expect(log.structuredContent.lines).toContain('the-last-line');
    const notMine = (await client.callTool({ name: 'job_log', arguments: { id: 'ZZZZZZZZ' } })) as { content: Content; isError?: boolean };
    expect(notMine.isError).toBe(true);
    expect(notMine.content[0]!.text).toMatch(/has no job "ZZZZZZZZ"/);
  }, 90_000);

  it('--allow-run adds run_job: a real job started as the caller in the directory given, waited for, its log read', async () => {
    lab = makeLab('flurm-mcp-');
    hub = await startHub(lab.hubConfig());
    const alice = lab.home('alice');
    const env = { ...alice.env, FLURM_HUB_URL: hub.url, FLURM_WAIT_EVERY_MS: '50' } as Record<string, string>;
    client = new Client({ name: 'flurm-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [FLURM, 'mcp', '--allow-run'], env, stderr: 'pipe' }));
    const tool = (await client.listTools()).tools.find((t) => t.name === 'run_job')!;
    expect(tool.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    const refused = (await client.callTool({ name: 'run_job', arguments: { argv: ['true'], cwd: 'relative/dir' } })) as { content: Content; isError?: boolean };
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toMatch(/not an absolute directory/);

    const started = (await client.callTool({ name: 'run_job', arguments: { argv: ['sh', '-c', 'pwd; echo agent-started'], cwd: lab.root, title: 'by-agent' } })) as { content: Content; structuredContent: { id: string; log: string | null }; isError?: boolean };
    expect(started.isError).toBeFalsy();
    expect(started.structuredContent.id).toMatch(/^[0-9A-Z]{26}$/);
    const waited = (await client.callTool({ name: 'wait_for_job', arguments: { id: started.structuredContent.id, timeout_seconds: 30 } })) as { content: Content; structuredContent: { ended: boolean; job: { state: string; name: string } } };
    expect(waited.structuredContent).toMatchObject({ ended: true, job: { state: 'succeeded', name: 'by-agent' } });
    const log = (await client.callTool({ name: 'job_log', arguments: { id: started.structuredContent.id } })) as { content: Content; structuredContent: { lines: string[] } };
    expect(log.structuredContent.lines).toEqual(expect.arrayContaining([lab.root, 'agent-started']));
  }, 60_000);
});
