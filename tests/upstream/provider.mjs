// A stand-in for a city portal's login (Shanghai's 随申办): the real, certified panva/oidc-provider,
// configured from a JSON file and bound to loopback only.
//
//   node provider.mjs CONFIG.json [PORT]       (PORT may also come from UPSTREAM_PORT; 0 or absent = any free port)
//
// CONFIG.json:
//   { "clients":  [{ "client_id", "client_secret", "redirect_uris": [...],
//                    "token_endpoint_auth_method": "client_secret_basic" (default) | "client_secret_post",
//                    "post_logout_redirect_uris": [...] }],
//     "accounts": [{ "sub", "name", "email", "email_verified", "phone_number", "phone_number_verified",
//                    "id_card_number", "id_card_verified", "password" }],
//     "pkce_required": false,              // true: every authorization request must carry S256 PKCE
//     "conform_id_token_claims": true }    // false: scope claims go into the ID token too, not only userinfo
//
// Signing in without a person: `login_hint=<sub>` on the authorization request signs that configured account
// in (an unknown hint ends the flow with access_denied), and consent is granted for whatever the registered
// client asked. Without a hint, /interaction/<uid> shows a small form (fields `login`, `password`) that only
// accepts accounts that have a "password" in the config. Prints `READY <issuer>` once it accepts requests.
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import { interactionPolicy, Provider } from 'oidc-provider';

const HOST = '127.0.0.1'; // loopback only: the portal exists for this test run and nothing else

const [configPath, portArg] = process.argv.slice(2);
if (!configPath) {
  console.error('usage: node provider.mjs CONFIG.json [PORT]');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const accounts = new Map((config.accounts ?? []).map((a) => [String(a.sub), a]));

const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['name'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  identity: ['id_card_number', 'id_card_verified'], // 实名: the resident ID the portal has verified
};

// Listen first so that port 0 works: the issuer must name the real port before the Provider exists.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(portArg ?? process.env.UPSTREAM_PORT ?? 0), HOST, resolve);
});
const issuer = `http://${HOST}:${server.address().port}`;

// A login_hint naming someone else than the signed-in End-User must sign in again; otherwise a browser
// that kept the portal's cookie would silently come back as the previous parent.
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check(
  'login_hint_mismatch',
  'login_hint names a different End-User',
  ({ oidc }) => oidc.params.login_hint !== undefined && oidc.session.accountId !== undefined
    && oidc.params.login_hint !== oidc.session.accountId && !oidc.result?.login,
));

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
    // What registration and discovery say; oidc-provider 8 accepts the secret by either method anyway.
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
  })),
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: `rs256-${Date.now()}`, alg: 'RS256', use: 'sig' }] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    // Jizuo also runs on 127.0.0.1, and cookies ignore the port: keep the portal's names apart.
    names: { session: '_portal_session', interaction: '_portal_interaction', resume: '_portal_resume' },
  },
  responseTypes: ['code'], // the portal offers the code flow only
  scopes: Object.keys(SCOPE_CLAIMS),
  claims: SCOPE_CLAIMS,
  conformIdTokenClaims: config.conform_id_token_claims ?? true,
  pkce: { required: () => Boolean(config.pkce_required) }, // S256 only (oidc-provider 8 offers no plain)
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return {
      accountId: id,
      // oidc-provider filters these down to what the granted scopes and claims allow.
      async claims() {
        const { password, ...claims } = account; // eslint-disable-line no-unused-vars
        return { ...claims, sub: id };
      },
    };
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', ctx.path, err));

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(res, uid, message = '') {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><meta charset="utf-8"><title>随申办 登录</title>
<h1>随申办 登录</h1>${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>账号 <input name="login" autocomplete="username"></label>
<label>密码 <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">登录</button></form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit">取消</button></form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, action) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  const finish = (result) => provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });

  if (action === 'abort') {
    return finish({ error: 'access_denied', error_description: 'End-User cancelled the login' });
  }
  if (prompt.name === 'login') {
    if (action === 'login' && req.method === 'POST') {
      const form = await readForm(req);
      const account = accounts.get(form.get('login') ?? '');
      if (account?.password === undefined || form.get('password') !== String(account.password)) {
        return loginPage(res, uid, '账号或密码错误');
      }
      return finish({ login: { accountId: account.sub } });
    }
    if (params.login_hint === undefined) return loginPage(res, uid);
    if (!accounts.has(params.login_hint)) {
      return finish({ error: 'access_denied', error_description: 'login_hint names no account of this portal' });
    }
    return finish({ login: { accountId: params.login_hint } });
  }
  if (prompt.name === 'consent') {
    // Every client here is one the portal registered itself, so consent is given for what it asked.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    return finish({ consent: { grantId: await grant.save() } });
  }
  return finish({ error: 'interaction_required', error_description: `unsupported prompt ${prompt.name}` });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const match = /^\/interaction\/([^/?]+)(?:\/(login|abort))?\/?(?:\?|$)/.exec(req.url);
  if (!match) return callback(req, res);
  return interaction(req, res, match[2]).catch((err) => {
    // Typically a missing or expired interaction cookie: say so rather than hang.
    console.error('interaction failed', err.name, err.message);
    if (!res.headersSent) res.writeHead(err.statusCode ?? 500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`${err.name}: ${err.error_description ?? err.message}\n`);
  });
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

console.log(`READY ${issuer}`);
