// Drives a legacy HTTP+SSE MCP server (our `mcp-sse serve`) with the TypeScript SDK's
// Client + SSEClientTransport and checks the demo tools of cli/src/demo.rs exactly.
//
// usage: node client_check.mjs URL
// Exit 0 with a one-line JSON summary on success, 1 naming the failing check otherwise.
import { sdk, within } from './sdk.mjs';

const { Client } = await sdk('client/index.js');
const { SSEClientTransport } = await sdk('client/sse.js');
const types = await sdk('types.js');

const url = process.argv[2];
if (!url) {
    console.error('usage: node client_check.mjs URL');
    process.exit(2);
}

const ROOTS = ['file:///tmp/ts-a', 'file:///tmp/ts-b'];
const TOOLS = ['add', 'echo', 'elicit', 'fail', 'list_roots', 'log_and_progress', 'ping_client', 'sample', 'slow'];

class CheckFailed extends Error {}
function check(name, got, want) {
    const g = JSON.stringify(got);
    const w = JSON.stringify(want);
    if (g !== w) throw new CheckFailed(`${name}: got ${g}, want ${w}`);
}
const texts = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text);

const seen = { sampling: [], roots: 0, elicitation: [], logs: [] };
const client = new Client(
    { name: 'ts-interop-check', version: '1.0.0' },
    { capabilities: { sampling: {}, roots: { listChanged: true }, elicitation: { form: {} } } },
);
client.setRequestHandler(types.CreateMessageRequestSchema, async (req) => {
    const block = req.params.messages[0].content;
    seen.sampling.push([req.params.maxTokens, block.text]);
    return { role: 'assistant', content: { type: 'text', text: `you said '${block.text}'` }, model: 'ts-model', stopReason: 'endTurn' };
});
client.setRequestHandler(types.ListRootsRequestSchema, async () => {
    seen.roots += 1;
    return { roots: ROOTS.map((uri) => ({ uri, name: uri.split('-').pop() })) };
});
client.setRequestHandler(types.ElicitRequestSchema, async (req) => {
    seen.elicitation.push([req.params.message, req.params.requestedSchema.properties]);
    return { action: 'accept', content: { answer: '42' } };
});
client.setNotificationHandler(types.LoggingMessageNotificationSchema, (n) => {
    seen.logs.push([n.params.level, n.params.data]);
});

const T = 60_000; // generous: the test machine may be heavily loaded
async function call(name, args, extra = {}) {
    return within(T, `tools/call ${name}`, client.callTool({ name, arguments: args }, undefined, { timeout: T, ...extra }));
}

async function run() {
    const summary = {};
    const transport = new SSEClientTransport(new URL(url));
    await within(T, 'connect + initialize', client.connect(transport));
    check('server name', client.getServerVersion()?.name, 'mcp-sse-demo');
    check('logging capability (DIVERGENCE 8)', client.getServerCapabilities()?.logging !== undefined, true);
    await within(T, 'ping', client.ping());

    const tools = await within(T, 'tools/list', client.listTools());
    check('tool names', tools.tools.map((t) => t.name).sort(), TOOLS);

    let r = await call('echo', { text: 'hello, SSE é' });
    check('echo', [texts(r), r.isError ?? false], [['hello, SSE é'], false]);

    r = await call('add', { a: 20, b: 22 });
    check('add', [texts(r), r.structuredContent], [['42'], { result: 42 }]);

    // Progress is checked at two levels. On the wire (every message the transport hands the
    // SDK): the three notifications carry this call's token and arrive before the response.
    // At the SDK's onprogress callback: the SDK (1.32.2) dispatches notifications in a microtask
    // but responses synchronously, so when the notifications and the response come in one TCP
    // read (our server writes everything queued in one vectored write) the response removes the
    // progress handler first and the SDK reports "unknown token" through onerror. That SDK race
    // is tolerated only in exactly that form, and counted in the summary.
    const progress = [];
    const wire = [];
    const sdkErrors = [];
    const transportOnmessage = transport.onmessage;
    transport.onmessage = (m, extra) => {
        if (m.method === 'notifications/progress') wire.push(['progress', m.params.progressToken, m.params.progress, m.params.total, m.params.message]);
        else if (m.id !== undefined && m.result?.content?.[0]?.text === 'done 3') wire.push(['response', m.id]);
        return transportOnmessage(m, extra);
    };
    client.onerror = (e) => sdkErrors.push(String(e?.message ?? e));
    r = await call('log_and_progress', { steps: 3 }, { onprogress: (p) => progress.push([p.progress, p.total, p.message]) });
    transport.onmessage = transportOnmessage;
    client.onerror = undefined;
    check('log_and_progress', texts(r), ['done 3']);
    const token = wire.length ? wire[wire.length - 1][1] : null;
    check('progress on the wire', wire, [...[1, 2, 3].map((i) => ['progress', token, i, 3, `step ${i}`]), ['response', token]]);
    const want = [1, 2, 3].map((i) => [i, 3, `step ${i}`]);
    if (progress.length === 3) {
        check('onprogress', progress, want);
        check('no SDK errors', sdkErrors, []);
    } else {
        check('onprogress (delivered part)', progress, want.slice(0, progress.length));
        const dropped = sdkErrors.filter((e) => e.startsWith('Received a progress notification for an unknown token'));
        check('SDK errors are exactly the dropped progress notifications', [dropped.length, sdkErrors.length], [3 - progress.length, 3 - progress.length]);
        summary.onprogress_dropped_by_sdk = dropped.length;
    }
    check('logs', seen.logs, [1, 2, 3].map((i) => ['info', `step ${i}/3`]));

    r = await call('sample', { prompt: 'What is MCP?' });
    check('sample', texts(r), ["ts-model: you said 'What is MCP?'"]);
    check('sampling request', seen.sampling, [[32, 'What is MCP?']]);

    r = await call('elicit', { question: 'What is the answer?' });
    check('elicit', texts(r), ['accept:42']);
    check('elicitation request', seen.elicitation, [['What is the answer?', { answer: { type: 'string' } }]]);

    r = await call('list_roots', {});
    check('list_roots', texts(r), [ROOTS.join(',')]);
    check('roots callback calls', seen.roots, 1);

    r = await call('ping_client', {});
    check('ping_client', texts(r), ['pong']);

    r = await call('fail', { message: 'kaboom' });
    check('fail', [texts(r), r.isError], [['kaboom'], true]);

    // A per-call timeout: RequestTimeout (-32001), then the session still works.
    try {
        r = await client.callTool({ name: 'slow', arguments: { seconds: 30 } }, undefined, { timeout: 500 });
        throw new CheckFailed(`slow(30) with a 500 ms timeout returned ${JSON.stringify(r)}`);
    } catch (e) {
        if (e instanceof CheckFailed) throw e;
        check('timeout error code', e.code, types.ErrorCode.RequestTimeout);
    }
    r = await call('echo', { text: 'after timeout' });
    check('echo after timeout', texts(r), ['after timeout']);

    await within(T, 'close', client.close());
    summary.ok = true;
    summary.tools = TOOLS.length;
    return summary;
}

try {
    console.log(JSON.stringify(await run()));
    process.exit(0);
} catch (e) {
    console.error(e instanceof CheckFailed ? `CHECK FAILED: ${e.message}` : `ERROR: ${e?.stack || e}`);
    process.exit(1);
}
