// Drives a running sieve server the way agent frameworks do: the official
// openai client's structured-output and tool support, and the Vercel AI
// SDK through its OpenAI-compatible provider. SIEVE_URL is the server's
// base URL, SIEVE_MODEL the served model id, SIEVE_ORIGIN an origin the
// server allows cross-origin (--allowed-origins).
//
// The tests marked "constrained" need constrained decoding (a tiny model
// calls tools well-formed only when its output is held to a schema); they
// skip while the server answers that it has none, and fail instead when
// SIEVE_REQUIRE_CONSTRAINED=1.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { generateObject, generateText, tool } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { z } from 'zod';

globalThis.AI_SDK_LOG_WARNINGS = false;

const base = process.env.SIEVE_URL ?? 'http://127.0.0.1:8000';
const model = process.env.SIEVE_MODEL ?? 'stories260K';
const origin = process.env.SIEVE_ORIGIN ?? 'http://sieve-ci.example';
const requireConstrained = process.env.SIEVE_REQUIRE_CONSTRAINED === '1';
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120_000 });
const sdk = createOpenAICompatible({ name: 'sieve', baseURL: `${base}/v1`, apiKey: 'unused', supportsStructuredOutputs: true });

const Weather = z.object({
  city: z.enum(['Paris', 'Oslo', 'Lima']),
  unit: z.enum(['celsius', 'fahrenheit']),
});
const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather of a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};
const question = { role: 'user', content: 'What is the weather in Paris?' };

let constrained = false;

async function post(path, body, headers = {}) {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

before(async () => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${base}/health did not answer 200 within 60s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const probe = await post('/v1/chat/completions', { model, messages: [question], tools: [weatherTool], tool_choice: 'required', max_tokens: 1 });
  constrained = probe.status === 200;
  if (!constrained) {
    assert.equal(probe.status, 400);
    assert.match(probe.body.error.message, /constrained decoding is not available/);
  }
});

// needsConstraints skips (or, when required, fails) a test that needs
// constrained decoding on a server without it.
function needsConstraints(t) {
  if (constrained) return false;
  if (requireConstrained) assert.fail('the server has no constrained decoding');
  t.skip('the server has no constrained decoding yet');
  return true;
}

test('GET /version', async () => {
  const r = await fetch(`${base}/version`);
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(typeof body.version, 'string');
  assert.ok(body.version.length > 0);
});

test('POST /tokenize and /detokenize round-trip a prompt', async () => {
  const text = 'Once upon a time';
  const tok = await post('/tokenize', { model, prompt: text, add_special_tokens: false, return_token_strs: true });
  assert.equal(tok.status, 200);
  assert.equal(tok.body.count, tok.body.tokens.length);
  assert.ok(tok.body.count > 0);
  assert.equal(tok.body.token_strs.length, tok.body.count);
  assert.ok(tok.body.max_model_len > 0);
  const withBOS = await post('/tokenize', { model, prompt: text });
  assert.equal(withBOS.body.count, tok.body.count + 1, 'add_special_tokens (default true) adds BOS');
  const detok = await post('/detokenize', { model, tokens: tok.body.tokens });
  assert.equal(detok.status, 200);
  assert.equal(detok.body.prompt, text);
  const chat = await post('/tokenize', { model, messages: [question], tools: [weatherTool] });
  assert.equal(chat.status, 200);
  const res = await client.chat.completions.create({ model, messages: [question], tools: [weatherTool], max_tokens: 1 });
  assert.equal(res.usage.prompt_tokens, chat.body.count, '/tokenize counts the prompt the chat endpoint sees');
});

test('CORS: preflights from the allowed origin pass, others are refused', async () => {
  const preflight = (from) =>
    fetch(`${base}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: from, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
  const ok = await preflight(origin);
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get('access-control-allow-origin'), origin);
  assert.match(ok.headers.get('access-control-allow-methods'), /POST/);
  const no = await preflight('http://elsewhere.example');
  assert.equal(no.status, 403);
  assert.equal(no.headers.get('access-control-allow-origin'), null);
});

test('refused and mistyped fields are 400s naming the field', async () => {
  for (const [field, value] of [['suffix', 'the end'], ['best_of', 3], ['logit_bias', { 99999: 5 }]]) {
    const r = await post('/v1/completions', { model, prompt: 'Once', max_tokens: 2, [field]: value });
    assert.equal(r.status, 400, field);
    assert.equal(r.body.error.param, field);
  }
});

test('logit_bias -100 bans the greedy choice', async () => {
  const greedy = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 1, temperature: 0 });
  const before = await post('/tokenize', { model, prompt: 'Once upon a time' });
  const after = await post('/tokenize', { model, prompt: 'Once upon a time' + greedy.choices[0].text });
  assert.equal(after.body.count, before.body.count + 1);
  const banned = after.body.tokens[before.body.count];
  const biased = await client.completions.create({
    model, prompt: 'Once upon a time', max_tokens: 1, temperature: 0, logit_bias: { [banned]: -100 },
  });
  assert.notEqual(biased.choices[0].text, greedy.choices[0].text);
});

test('tool round trip: tools offered, a call answered by a tool message', async () => {
  const first = await client.chat.completions.create({ model, messages: [question], tools: [weatherTool], max_tokens: 16, seed: 1 });
  const choice = first.choices[0];
  assert.ok(['stop', 'length', 'tool_calls'].includes(choice.finish_reason));
  // A tiny model seldom calls a tool under "auto": when it does not, the
  // conversation goes on as if it had.
  const call = choice.message.tool_calls?.[0] ?? {
    id: 'call_ci0000000000000000000001', type: 'function',
    function: { name: 'get_weather', arguments: JSON.stringify({ city: 'Paris', unit: 'celsius' }) },
  };
  assert.match(call.id, /^call_/);
  const answer = await client.chat.completions.create({
    model,
    tools: [weatherTool],
    max_tokens: 16,
    seed: 1,
    messages: [
      question,
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature: 21, sky: 'clear' }) },
    ],
  });
  assert.equal(answer.choices[0].message.role, 'assistant');
  assert.ok(typeof answer.choices[0].message.content === 'string' || answer.choices[0].message.tool_calls);
  await assert.rejects(
    client.chat.completions.create({
      model, tools: [weatherTool], max_tokens: 4,
      messages: [question, { role: 'tool', tool_call_id: 'call_nobody_made', content: 'x' }],
    }),
    (err) => err.status === 400 && /call_nobody_made/.test(err.message),
  );
});

test('constrained: chat.completions.parse with a zod schema', async (t) => {
  if (needsConstraints(t)) return;
  const res = await client.chat.completions.parse({
    model, messages: [question], max_tokens: 200, response_format: zodResponseFormat(Weather, 'weather'),
  });
  const msg = res.choices[0].message;
  assert.equal(res.choices[0].finish_reason, 'stop');
  assert.deepEqual(Weather.parse(JSON.parse(msg.content)), msg.parsed);
});

test('constrained: a named tool call, its result, then the answer', async (t) => {
  if (needsConstraints(t)) return;
  const tools = [zodFunction({ name: 'get_weather', parameters: Weather, description: 'The current weather of a city' })];
  const res = await client.chat.completions.parse({
    model, messages: [question], tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, max_tokens: 200,
  });
  const call = res.choices[0].message.tool_calls[0];
  assert.equal(res.choices[0].finish_reason, 'tool_calls');
  assert.equal(call.function.name, 'get_weather');
  assert.match(call.id, /^call_/);
  const args = Weather.parse(call.function.parsed_arguments);
  const answer = await client.chat.completions.create({
    model, tools, max_tokens: 16, seed: 1,
    messages: [question, res.choices[0].message, { role: 'tool', tool_call_id: call.id, content: `21 degrees in ${args.city}` }],
  });
  assert.equal(typeof answer.choices[0].message.content, 'string');
});

test('constrained: a streamed tool call assembled from its deltas', async (t) => {
  if (needsConstraints(t)) return;
  for (const toolChoice of ['required', { type: 'function', function: { name: 'get_weather' } }]) {
    const stream = await client.chat.completions.create({
      model, messages: [question], tools: [weatherTool], tool_choice: toolChoice, parallel_tool_calls: false, max_tokens: 200, stream: true,
    });
    const calls = [];
    let finish;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      finish = choice.finish_reason ?? finish;
      for (const d of choice.delta.tool_calls ?? []) {
        if (!calls[d.index]) {
          assert.ok(d.id && d.type === 'function' && d.function.name, 'the first delta of a call names it');
          calls[d.index] = { id: d.id, name: d.function.name, arguments: '' };
        }
        calls[d.index].arguments += d.function.arguments ?? '';
      }
    }
    assert.equal(finish, 'tool_calls', JSON.stringify(toolChoice));
    assert.equal(calls.length, 1);
    assert.equal(calls[0].name, 'get_weather');
    Weather.parse(JSON.parse(calls[0].arguments));
  }
});

test('constrained: AI SDK generateObject with a schema', async (t) => {
  if (needsConstraints(t)) return;
  const { object } = await generateObject({ model: sdk(model), schema: Weather, prompt: question.content, maxOutputTokens: 200, maxRetries: 0 });
  Weather.parse(object);
});

test('constrained: AI SDK generateText with a tool', async (t) => {
  if (needsConstraints(t)) return;
  const result = await generateText({
    model: sdk(model),
    prompt: question.content,
    tools: { get_weather: tool({ description: 'The current weather of a city', inputSchema: Weather }) },
    toolChoice: { type: 'tool', toolName: 'get_weather' },
    maxOutputTokens: 200,
    maxRetries: 0,
  });
  assert.equal(result.toolCalls.length, 1);
  assert.equal(result.toolCalls[0].toolName, 'get_weather');
  Weather.parse(result.toolCalls[0].input);
});
