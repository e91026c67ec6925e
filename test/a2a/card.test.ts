import { afterAll, describe, expect, test } from "bun:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import { a2aCardSigningInput, rvAgentCardSigningInput } from "../../src/a2a/canonical.ts";
import { A2aClient, A2aServer, agentIdOf, CardCache, ed25519Jwk, signRvAgentCard, signingKey } from "../../src/a2a/index.ts";
import { A2aError, CardSignatureInvalid, TransportError } from "../../src/a2a/errors.ts";
import { plainCard, RawPeer, tamperingFetch, testSkills } from "./fixtures/peers.ts";

const server = A2aServer.start({ name: "card-agent", description: "signs its cards", skills: testSkills() });
const trustedKeys = server.trustedKeys;
const connect = (options: Parameters<typeof A2aClient.connect>[1] = {}) =>
  A2aClient.connect(server.url, { trustedKeys, cardCache: null, ...options });

afterAll(() => server.stop());

describe("discovery of our server's signed cards", () => {
  test("A2A 1.0: the JWS (EdDSA) verifies; skills, costs, agent id and dialect are exposed", async () => {
    const client = await connect();
    expect(client.dialect).toBe("a2a");
    expect(client.card.name).toBe("card-agent");
    expect(client.card.agentId).toBe(server.agentId);
    expect(client.card.signature).toEqual({ scheme: "jws", alg: "EdDSA", kid: server.agentId });
    expect(client.card.skills.map((skill) => skill.id)).toEqual(["echo", "chunks", "slow", "free", "broken"]);
    expect(client.card.skills[0]?.cost).toEqual({ usdPerTask: 0.01, tokensPerTask: 100 });
    expect(client.card.skills[3]?.cost).toBeUndefined();
  });

  test("rvAgent: Ed25519-hex over sorted compact JSON verifies; agentId = hex(SHAKE-256(key))", async () => {
    const client = await connect({ dialect: "rvagent" });
    expect(client.dialect).toBe("rvagent");
    expect(client.card.signature?.scheme).toBe("rvagent");
    const card = server.cards.rvagent as { metadata: { ruvector: { signature: { public_key: string } } } };
    const publicKey = Buffer.from(card.metadata.ruvector.signature.public_key, "hex");
    expect(client.card.agentId).toBe(agentIdOf(publicKey));
    expect(client.card.agentId).toHaveLength(64);
    expect(client.card.skills[1]?.cost).toEqual({ usdPerTask: 0.02 });
  });

  test("falls back to /.well-known/agent.json when the A2A 1.0 card is absent", async () => {
    await using rvOnly = A2aServer.start({ name: "rv-only", description: "A test agent", skills: testSkills(), dialects: ["rvagent"] });
    const client = await A2aClient.connect(rvOnly.url, { trustedKeys: rvOnly.trustedKeys });
    expect(client.dialect).toBe("rvagent");
    expect(rvOnly.stats.cardRequests).toBe(1);
    expect(rvOnly.stats.requests).toBe(2);
  });

  test("ES256 signatures verify, and one trusted key among several signatures is enough", async () => {
    await using rotated = A2aServer.start({ name: "rotating", description: "A test agent", skills: testSkills(), signing: { jws: ["ES256", "EdDSA"] } });
    const es256Kid = Object.keys(rotated.trustedKeys).find((kid) => kid !== rotated.agentId) ?? "";
    const es256Only = await A2aClient.connect(rotated.url, { trustedKeys: { [es256Kid]: rotated.trustedKeys[es256Kid]! } });
    expect(es256Only.card.signature).toEqual({ scheme: "jws", alg: "ES256", kid: es256Kid });
    const edOnly = await A2aClient.connect(rotated.url, { trustedKeys: { [rotated.agentId]: rotated.trustedKeys[rotated.agentId]! } });
    expect(edOnly.card.signature?.alg).toBe("EdDSA");
  });

  test("ETag revalidation: the second discovery sends If-None-Match and reuses the body on 304", async () => {
    const cache = new CardCache();
    const before = server.stats;
    await A2aClient.connect(server.url, { trustedKeys, cardCache: cache });
    const again = await A2aClient.connect(server.url, { trustedKeys, cardCache: cache });
    expect(again.card.agentId).toBe(server.agentId);
    expect(cache.size).toBe(1);
    expect(server.stats.cardRequests - before.cardRequests).toBe(2);
    expect(server.stats.notModified - before.notModified).toBe(1);
  });
});

describe("tampering is caught (CardSignatureInvalid)", () => {
  const cases: [string, "a2a" | "rvagent", (card: Record<string, any>) => Record<string, any>][] = [
    ["a field (skill cost) of the A2A card", "a2a", (card) => { card.capabilities.extensions[0].params.skills.slow.usdPerTask = 0; return card; }],
    ["a field (name) of the A2A card", "a2a", (card) => ({ ...card, name: "impostor" })],
    ["an added field of the A2A card", "a2a", (card) => ({ ...card, documentationUrl: "https://evil.example" })],
    ["the A2A signature", "a2a", (card) => { const sig = card.signatures[0]; sig.signature = flip(sig.signature); return card; }],
    ["the A2A key id", "a2a", (card) => { card.signatures[0].protected = reheader(card.signatures[0].protected, { kid: "someone-else" }); return card; }],
    ["the A2A algorithm", "a2a", (card) => { card.signatures[0].protected = reheader(card.signatures[0].protected, { alg: "ES256" }); return card; }],
    ["a field of the rvAgent card", "rvagent", (card) => ({ ...card, description: "tampered" })],
    ["the rvAgent signature", "rvagent", (card) => { const sig = card.metadata.ruvector.signature; sig.signature = flipHex(sig.signature); return card; }],
    ["the rvAgent public key", "rvagent", (card) => { card.metadata.ruvector.signature.public_key = Buffer.from(signingKey("EdDSA").publicKey).toString("hex"); return card; }],
    ["the rvAgent card re-signed by another key", "rvagent", (card) => signRvAgentCard({ ...card, name: "impostor" }, signingKey("EdDSA"))],
  ];
  for (const [what, dialect, mutate] of cases) {
    test(what, async () => {
      const error = await connect({ dialect, fetch: tamperingFetch(mutate) }).catch((e) => e);
      expect(error).toBeInstanceOf(CardSignatureInvalid);
      expect(error.code).toBe("CARD_SIGNATURE_INVALID");
      expect(error.message).toContain(server.url);
    });
  }

  const malformed: [string, "a2a" | "rvagent", (card: Record<string, any>) => Record<string, any>, string][] = [
    ["signatures that are not a list", "a2a", (card) => ({ ...card, signatures: "yes" }), "must be an array"],
    ["a protected header that is not base64url", "a2a", (card) => { card.signatures[0].protected = "***"; return card; }, "not base64url"],
    ["a critical header extension", "a2a", (card) => { card.signatures[0].protected = reheader(card.signatures[0].protected, { crit: "exp" } as never); return card; }, "critical"],
    ["an unsupported algorithm", "a2a", (card) => { card.signatures[0].protected = reheader(card.signatures[0].protected, { alg: "HS256" }); return card; }, "unsupported alg"],
    ["an rvAgent signature alg other than ed25519-hex", "rvagent", (card) => { card.metadata.ruvector.signature.alg = "rsa"; return card; }, "unsupported signature alg"],
    ["an rvAgent key that is not hex", "rvagent", (card) => { card.metadata.ruvector.signature.public_key = "zz"; return card; }, "32 bytes of hex"],
    ["an rvAgent agent_id that is not the key's", "rvagent", (card) => signedWithForeignAgentId(card), "is not the key's"],
  ];
  for (const [what, dialect, mutate, reason] of malformed) {
    test(`malformed signature material: ${what}`, async () => {
      const error = await connect({ dialect, fetch: tamperingFetch(mutate) }).catch((e) => e);
      expect(error).toBeInstanceOf(CardSignatureInvalid);
      expect(error.message).toContain(reason);
    });
  }

  test("a trusted store holding a different key under the card's kid", async () => {
    const impostor = { [server.agentId]: ed25519Jwk(signingKey("EdDSA").publicKey) };
    const error = await connect({ trustedKeys: impostor }).catch((e) => e);
    expect(error).toBeInstanceOf(CardSignatureInvalid);
    expect(error.message).toContain("does not verify");
  });

  test("an untrusted signer (empty trust store) in both dialects", async () => {
    for (const dialect of ["a2a", "rvagent"] as const) {
      const error = await connect({ trustedKeys: {}, dialect }).catch((e) => e);
      expect(error).toBeInstanceOf(CardSignatureInvalid);
      expect(error.message).toContain("not a trusted key");
    }
  });
});

describe("unsigned cards", () => {
  const unsigned = A2aServer.start({ name: "unsigned", description: "A test agent", skills: testSkills(), signing: { jws: [], rvagent: false } });
  afterAll(() => unsigned.stop());

  test("are rejected by default in both dialects", async () => {
    for (const dialect of ["a2a", "rvagent"] as const) {
      const error = await A2aClient.connect(unsigned.url, { trustedKeys: unsigned.trustedKeys, dialect }).catch((e) => e);
      expect(error).toBeInstanceOf(CardSignatureInvalid);
      expect(error.message).toContain("unsigned");
    }
  });

  test("are accepted with an explicit verify: false, and then carry no agent id", async () => {
    const client = await A2aClient.connect(unsigned.url, { verify: false });
    expect(client.card.signature).toBeUndefined();
    expect(client.card.agentId).toBeUndefined();
    expect(client.card.skills).toHaveLength(5);
  });
});

describe("jku (key URL named by the card)", () => {
  const key = signingKey("EdDSA");
  let jwksRequests = 0;
  const peer: RawPeer = new RawPeer((request): Response => {
    const { pathname } = new URL(request.url);
    if (pathname === "/jwks.json") {
      jwksRequests++;
      return Response.json({ keys: [{ ...ed25519Jwk(key.publicKey), kid: "rotating" }] });
    }
    if (pathname === "/.well-known/agent-card.json") return Response.json(signWithJku(plainCard(peer.url), `${peer.url}jwks.json`));
    return new Response("not found", { status: 404 });
  });
  afterAll(() => peer.stop());

  function signWithJku(card: Record<string, unknown>, jku: string): Record<string, unknown> {
    const header = Buffer.from(JSON.stringify({ alg: "EdDSA", kid: "rotating", typ: "JOSE", jku })).toString("base64url");
    const payload = Buffer.from(a2aCardSigningInput(card)).toString("base64url");
    const signature = Buffer.from(ed25519.sign(new TextEncoder().encode(`${header}.${payload}`), key.secretKey)).toString("base64url");
    return { ...card, signatures: [{ protected: header, signature }] };
  }

  test("is never fetched unless allow-listed", async () => {
    const error = await A2aClient.connect(peer.url, { trustedKeys: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(CardSignatureInvalid);
    expect(error.message).toContain("is not allow-listed");
    expect(jwksRequests).toBe(0);
  });

  test("is fetched when allow-listed, and its key verifies the card", async () => {
    const client = await A2aClient.connect(peer.url, { trustedKeys: {}, jkuAllowList: [`${peer.url}jwks.json`] });
    expect(client.card.signature).toEqual({ scheme: "jws", alg: "EdDSA", kid: "rotating" });
    expect(client.card.agentId).toBe(agentIdOf(key.publicKey));
    expect(jwksRequests).toBe(1);
  });
});

describe("broken cards and missing agents", () => {
  const bodies: Record<string, string> = {
    "/notjson/.well-known/agent-card.json": "{ not json",
    "/shape/.well-known/agent-card.json": JSON.stringify({ name: 5, skills: [] }),
    "/norpc/.well-known/agent-card.json": JSON.stringify({ ...plainCard("http://x/"), supportedInterfaces: [{ url: "http://x/", protocolBinding: "GRPC", protocolVersion: "1.0" }] }),
    "/minor/.well-known/agent-card.json": JSON.stringify({ ...plainCard("http://x/"), supportedInterfaces: [{ url: "http://x/", protocolBinding: "JSONRPC", protocolVersion: "1.7" }] }),
    "/patch/.well-known/agent-card.json": JSON.stringify({
      ...plainCard("http://x/"),
      supportedInterfaces: [
        { url: "http://127.0.0.1:1/later/", protocolBinding: "JSONRPC", protocolVersion: "1.1" },
        { url: "http://127.0.0.1:1/patched/", protocolBinding: "JSONRPC", protocolVersion: "1.0.3" },
      ],
    }),
  };
  const peer = new RawPeer((request) => {
    const body = bodies[new URL(request.url).pathname];
    return body === undefined ? new Response("nope", { status: 404 }) : new Response(body, { headers: { "content-type": "application/json" } });
  });
  afterAll(() => peer.stop());

  test("the JSON-RPC interface must speak 1.0 (Major.Minor; a patch number does not count)", async () => {
    const client = await A2aClient.connect(`${peer.url}patch`, { verify: false, cardCache: null });
    // Nothing listens there: the failing request names the interface the client chose.
    const error = await client.getTask("t", { signal: AbortSignal.timeout(2_000) }).catch((e) => e);
    expect(error.url).toBe("http://127.0.0.1:1/patched/");
  });

  for (const [prefix, reason] of [["notjson", "not valid JSON"], ["shape", "name must be a string"], ["norpc", "no JSONRPC interface"], ["minor", "no JSONRPC interface for A2A 1.0"]]) {
    test(`malformed card (${prefix}) ⇒ A2aError CARD_INVALID`, async () => {
      const error = await A2aClient.connect(`${peer.url}${prefix}`, { verify: false }).catch((e) => e);
      expect(error).toBeInstanceOf(A2aError);
      expect(error.code).toBe("CARD_INVALID");
      expect(error.message).toContain(reason);
    });
  }

  test("a 304 for a card that was never cached ⇒ TransportError", async () => {
    const confused = new RawPeer(() => new Response(null, { status: 304 }));
    const error = await A2aClient.connect(confused.url, { verify: false }).catch((e) => e);
    await confused.stop();
    expect(error).toBeInstanceOf(TransportError);
    expect(error.status).toBe(304);
  });

  test("no card at either path ⇒ TransportError 404 naming the URL", async () => {
    const error = await A2aClient.connect(`${peer.url}missing`, { verify: false }).catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.status).toBe(404);
    expect(error.message).toContain(`${peer.url}missing/.well-known/agent.json`);
  });
});

/** `card` validly signed by a fresh key, but declaring someone else's agent id. */
function signedWithForeignAgentId(card: Record<string, any>): Record<string, any> {
  const key = signingKey("EdDSA");
  card.metadata.ruvector.agent_id = "0".repeat(64);
  const signature = ed25519.sign(rvAgentCardSigningInput(card), key.secretKey);
  card.metadata.ruvector.signature = { alg: "ed25519-hex", signature: Buffer.from(signature).toString("hex"), public_key: Buffer.from(key.publicKey).toString("hex") };
  return card;
}

function flip(base64url: string): string {
  const first = base64url[0] === "A" ? "B" : "A";
  return first + base64url.slice(1);
}

function flipHex(hex: string): string {
  return (hex[0] === "0" ? "1" : "0") + hex.slice(1);
}

function reheader(encoded: string, changes: Record<string, string>): string {
  const header = JSON.parse(Buffer.from(encoded, "base64url").toString());
  return Buffer.from(JSON.stringify({ ...header, ...changes })).toString("base64url");
}
