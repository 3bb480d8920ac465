// A legacy HTTP+SSE MCP server on the TypeScript SDK (low-level Server + SSEServerTransport on
// node's http module): GET /sse opens a session, POST /messages?sessionId=… carries messages.
// Tools: echo, add, log_and_progress (logs + progress), sample (sampling/createMessage to the
// client), slow — the same names, arguments and result texts as cli/src/demo.rs.
//
// usage: node server.mjs PORT        (PORT 0 picks a free port)
// Prints `READY http://127.0.0.1:<port>/sse` once listening. Listens on 127.0.0.1 only.
import http from 'node:http';
import { sdk } from './sdk.mjs';

const { Server } = await sdk('server/index.js');
const { SSEServerTransport } = await sdk('server/sse.js');
const types = await sdk('types.js');

const TOOLS = [
    { name: 'echo', description: 'Echo the given text back.', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } },
    {
        name: 'add',
        description: 'Add two integers.',
        inputSchema: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] },
        outputSchema: { type: 'object', properties: { result: { type: 'integer' } }, required: ['result'] },
    },
    {
        name: 'log_and_progress',
        description: 'Emit log messages and progress notifications, then finish.',
        inputSchema: { type: 'object', properties: { steps: { type: 'integer', default: 3 } } },
    },
    { name: 'sample', description: "Ask the client's LLM (sampling/createMessage).", inputSchema: { type: 'object', properties: { prompt: { type: 'string' } }, required: ['prompt'] } },
    { name: 'slow', description: 'Sleep for the given number of seconds, then return.', inputSchema: { type: 'object', properties: { seconds: { type: 'number', default: 1.0 } } } },
];

const text = (t) => ({ content: [{ type: 'text', text: t }] });
// Python's str(float): 1.0, 0.5
const pyFloat = (x) => (Number.isInteger(x) ? x.toFixed(1) : String(x));

function newServer() {
    const server = new Server({ name: 'mcp-sse-demo-ts', version: '1.0.0' }, { capabilities: { tools: {}, logging: {} } });
    server.setRequestHandler(types.ListToolsRequestSchema, async () => ({ tools: TOOLS }));
    server.setRequestHandler(types.CallToolRequestSchema, async (req, extra) => {
        const args = req.params.arguments ?? {};
        switch (req.params.name) {
            case 'echo':
                return text(String(args.text));
            case 'add': {
                const sum = args.a + args.b;
                return { ...text(String(sum)), structuredContent: { result: sum } };
            }
            case 'log_and_progress': {
                const steps = Math.max(0, Math.min(args.steps ?? 3, 10000));
                const token = req.params._meta?.progressToken;
                for (let i = 1; i <= steps; i++) {
                    await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: `step ${i}/${steps}` } });
                    if (token !== undefined) {
                        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps, message: `step ${i}` } });
                    }
                }
                return text(`done ${steps}`);
            }
            case 'sample': {
                const r = await server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: args.prompt } }], maxTokens: 32 }, { signal: extra.signal });
                const block = Array.isArray(r.content) ? r.content[0] : r.content;
                return text(`${r.model}: ${block?.text ?? ''}`);
            }
            case 'slow': {
                const seconds = args.seconds ?? 1.0;
                await new Promise((resolve, reject) => {
                    const timer = setTimeout(resolve, seconds * 1000);
                    extra.signal.addEventListener('abort', () => {
                        clearTimeout(timer);
                        reject(new Error('cancelled'));
                    });
                });
                return text(`slept ${pyFloat(seconds)}`);
            }
            default:
                return { ...text(`Unknown tool: ${req.params.name}`), isError: true };
        }
    });
    return server;
}

const transports = new Map();
const httpServer = http.createServer(async (req, res) => {
    try {
        const url = new URL(req.url, 'http://127.0.0.1');
        if (req.method === 'GET' && url.pathname === '/sse') {
            const transport = new SSEServerTransport('/messages', res);
            transports.set(transport.sessionId, transport);
            res.on('close', () => transports.delete(transport.sessionId));
            await newServer().connect(transport);
        } else if (req.method === 'POST' && url.pathname === '/messages') {
            const transport = transports.get(url.searchParams.get('sessionId') ?? '');
            if (!transport) {
                res.writeHead(404).end('Could not find session');
                return;
            }
            await transport.handlePostMessage(req, res);
        } else {
            res.writeHead(404).end('Not Found');
        }
    } catch (e) {
        console.error('request failed:', e);
        if (!res.headersSent) res.writeHead(500).end(String(e));
    }
});

const port = Number(process.argv[2] ?? 0);
httpServer.listen(port, '127.0.0.1', () => {
    console.log(`READY http://127.0.0.1:${httpServer.address().port}/sse`);
});
const stop = () => httpServer.close(() => process.exit(0)) && httpServer.closeAllConnections();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
