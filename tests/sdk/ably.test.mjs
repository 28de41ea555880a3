// ably-js (npm `ably` 2.x), unchanged, against `keydeck sandbox`: time, requestToken and
// createTokenRequest, revokeTokens in JSON and in MessagePack, and a revoked token refused.
//
// Run by tests/sdk/run.sh (which CI calls): KEYDECK_BIN names the keydeck binary to start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Ably = require('ably');

const bin = process.env.KEYDECK_BIN;
let child;
let info;
let restHost;
let port;

/** Starts `keydeck sandbox` and reads its start-up line (the first line of stdout). */
function startSandbox() {
  return new Promise((resolve, reject) => {
    child = spawn(bin, ['sandbox', '--port', '0', '--ably-rest-port', '0', '--print-secrets'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`keydeck sandbox exited (${code}) before its start-up line`)));
    const timer = setTimeout(() => reject(new Error('no start-up line within 30 s')), 30_000);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
  });
}

function key(name) {
  const k = info.ably.keys.find((k) => k.name === name);
  assert.ok(k, `the start-up line lists the ${name} key`);
  return k.key;
}

/** A REST client pointed at the sandbox exactly as the README shows, nothing else changed. */
function rest(options) {
  return new Ably.Rest({ restHost, port, tls: false, ...options });
}

before(async () => {
  assert.ok(bin, 'KEYDECK_BIN names the keydeck binary');
  info = await startSandbox();
  const url = new URL(info.ably.restRootUrl);
  restHost = url.hostname;
  port = Number(url.port);
});

after(() => {
  child?.kill('SIGTERM');
});

for (const useBinaryProtocol of [false, true]) {
  const format = useBinaryProtocol ? 'MessagePack' : 'JSON';

  test(`time answers the server clock (${format})`, async () => {
    const before = Date.now();
    const t = await rest({ key: key('Root'), useBinaryProtocol }).time();
    assert.ok(t >= before - 2000 && t <= Date.now() + 2000, `time ${t}`);
  });

  test(`requestToken gives the key's capability, the TTL and the clientId (${format})`, async () => {
    const client = rest({ key: key('Root'), useBinaryProtocol });
    const td = await client.auth.requestToken({ clientId: 'alice', ttl: 120_000 });
    assert.equal(td.clientId, 'alice');
    assert.equal(td.keyName, key('Root').split(':')[0]);
    assert.equal(td.expires - td.issued, 120_000);
    assert.deepEqual(JSON.parse(td.capability), { '[*]*': ['*'] });
    const narrow = await client.auth.requestToken({ capability: { 'chat:lobby': ['publish'] } });
    assert.deepEqual(JSON.parse(narrow.capability), { 'chat:lobby': ['publish'] });
    // The Chat client key allows only chat:*; a revocable key caps the TTL at one hour.
    const chat = rest({ key: key('Chat client'), useBinaryProtocol });
    await assert.rejects(chat.auth.requestToken({ capability: { private: ['publish'] } }), (e) => e.code === 40160);
    await assert.rejects(chat.auth.requestToken({ ttl: 2 * 3_600_000 }), (e) => e.code === 40003);
  });

  test(`a createTokenRequest signed on the client is exchanged for a token (${format})`, async () => {
    const signer = rest({ key: key('Chat client'), useBinaryProtocol });
    const tokenRequest = await signer.auth.createTokenRequest({ clientId: 'dora' });
    assert.ok(tokenRequest.mac && tokenRequest.nonce);
    const client = rest({
      authCallback: (_params, cb) => cb(null, tokenRequest),
      useBinaryProtocol,
    });
    const td = await client.auth.authorize();
    assert.equal(td.clientId, 'dora');
    await client.channels.get('chat:lobby').publish('greeting', 'hello');
  });

  test(`revokeTokens revokes by target and the revoked token is refused (${format})`, async () => {
    const clientId = `eve-${format}`;
    const issuer = rest({ key: key('Chat client'), useBinaryProtocol });
    const td = await issuer.auth.requestToken({ clientId });
    // A client that holds only the token: it works, and cannot renew once refused.
    const holder = rest({ token: td.token, useBinaryProtocol });
    await holder.channels.get('chat:lobby').publish('before', 'ok');

    const result = await issuer.auth.revokeTokens([
      { type: 'clientId', value: clientId },
      { type: 'nonsense', value: 'x' },
    ]);
    assert.equal(result.successCount, 1);
    assert.equal(result.failureCount, 1);
    assert.equal(result.results[0].target, `clientId:${clientId}`);
    assert.ok(result.results[0].appliesAt >= result.results[0].issuedBefore);
    assert.equal(result.results[1].error.code, 40000);

    // ably-js raises 40171 ("needs a new token, but has no way to get one") only after the
    // server refused the token with a token error; the raw answer shows which one: 40141.
    await assert.rejects(holder.channels.get('chat:lobby').publish('after', 'no'), (e) => e.code === 40171);
    const raw = await fetch(`${info.ably.restRootUrl}/channels/chat:lobby/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${Buffer.from(td.token).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'raw', data: 'no' }),
    });
    assert.equal(raw.status, 401);
    assert.equal((await raw.json()).error.code, 40141);

    // Revocation does not ban the client: a token issued after it works. (Not shown through an
    // authCallback client: ably-js 2.x retries a request refused with a token error with the
    // old Authorization header, so it would loop on the revoked token; a new client is used.)
    const fresh = await issuer.auth.requestToken({ clientId });
    assert.ok(fresh.issued > result.results[0].issuedBefore);
    await rest({ token: fresh.token, useBinaryProtocol }).channels.get('chat:lobby').publish('after', 'ok');
  });
}

test('revokeTokens needs Basic auth with the issuing key', async () => {
  const other = rest({ key: key('Root') });
  // The Root key has no revocable tokens.
  await assert.rejects(other.auth.revokeTokens([{ type: 'clientId', value: 'x' }]), (e) => e.code === 40163);
});
