// Drives a running sieve server with the official openai client.
// SIEVE_URL is the server's base URL (e.g. http://127.0.0.1:8000),
// SIEVE_MODEL the served model id (stories260K), and SIEVE_REFERENCE the
// llama2.c greedy output for "Once upon a time".
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const base = process.env.SIEVE_URL ?? 'http://127.0.0.1:8000';
const model = process.env.SIEVE_MODEL ?? 'stories260K';
const prompt = 'Once upon a time';
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });

before(async () => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${base}/health did not answer 200 within 60s`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

test('models.list names the served model', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, [model]);
});

test('greedy completion matches the llama2.c reference', async () => {
  const res = await client.completions.create({ model, prompt, max_tokens: 40, temperature: 0 });
  assert.match(res.id, /^cmpl-/);
  assert.equal(res.object, 'text_completion');
  assert.equal(res.model, model);
  assert.equal(res.choices.length, 1);
  const text = res.choices[0].text;
  assert.ok(text.length > 40, `short completion ${JSON.stringify(text)}`);
  if (process.env.SIEVE_REFERENCE) {
    const ref = readFileSync(process.env.SIEVE_REFERENCE, 'utf8');
    assert.ok(ref.startsWith(prompt + text), `completion ${JSON.stringify(text)} is not the reference's continuation`);
  }
  assert.equal(res.choices[0].finish_reason, 'length');
  assert.equal(res.usage.prompt_tokens, 5);
  assert.equal(res.usage.completion_tokens, 40);
  assert.equal(res.usage.total_tokens, 45);
});

test('chat completion', async () => {
  const res = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Tell me a story about a cat.' }],
    max_tokens: 24,
    seed: 1,
  });
  assert.match(res.id, /^chatcmpl-/);
  assert.equal(res.object, 'chat.completion');
  const choice = res.choices[0];
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.ok(choice.message.content.length > 0);
  assert.ok(['stop', 'length'].includes(choice.finish_reason));
  assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);
});

test('streamed chat completion equals the whole one', async () => {
  const request = {
    model,
    messages: [{ role: 'user', content: 'Once upon a time' }],
    max_tokens: 32,
    temperature: 0,
  };
  const whole = await client.chat.completions.create(request);
  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let content = '';
  let chunks = 0;
  let role;
  const finishes = [];
  let usage;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunks++ === 0) role = chunk.choices[0]?.delta?.role;
    for (const c of chunk.choices) {
      content += c.delta.content ?? '';
      if (c.finish_reason) finishes.push(c.finish_reason);
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(role, 'assistant');
  assert.ok(chunks > 2, `only ${chunks} chunks`);
  assert.equal(content, whole.choices[0].message.content);
  assert.deepEqual(finishes, [whole.choices[0].finish_reason]);
  // The stream repeats the whole request's prompt, so the prefix cache
  // serves its full blocks: every count but cached_tokens is the same.
  const { prompt_tokens_details: streamDetails, ...streamCounts } = usage;
  const { prompt_tokens_details: wholeDetails, ...wholeCounts } = whole.usage;
  assert.deepEqual(streamCounts, wholeCounts);
  assert.ok(streamDetails.cached_tokens > wholeDetails.cached_tokens,
    `cached tokens ${streamDetails.cached_tokens} after ${wholeDetails.cached_tokens}: the repeated prompt was not served from cache`);
});

test('an unknown model is a 404 NotFoundError', async () => {
  await assert.rejects(
    client.completions.create({ model: 'no-such-model', prompt, max_tokens: 4 }),
    (err) => err instanceof OpenAI.NotFoundError && err.status === 404,
  );
});
