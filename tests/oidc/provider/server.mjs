// A real OpenID Connect provider for the tests: oidc-provider (a certified implementation),
// configured like ProConnect (https://github.com/numerique-gouv/proconnect-documentation):
// client authentication `client_secret_post`, PKCE required, userinfo answered as a signed
// JWT (`application/jwt`), access tokens living 60 seconds, the claims given_name,
// usual_name, email, uid, siret, organizational_unit, belonging_population (no
// email_verified), a `sub` of its own (not the email), RP-initiated logout through
// end_session_endpoint with id_token_hint, state and post_logout_redirect_uri.
//
// Started by tests/oidc/conftest.py on 127.0.0.1 over plain HTTP (tests only):
//   PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS and POST_LOGOUT_REDIRECT_URIS (space
//   separated). A second client, `<CLIENT_ID>-json`, answers userinfo in JSON.
// Test-only controls, under /__test__/:
//   POST /__test__/accounts  {"<login>": {claims...}}  the claims of logins (else derived from
//                            the login), replacing those set before
//   POST /__test__/jwks      {"rogue": true}  publish another key than the one that signs
// The sign-in page is the provider's own (a login field, no password); a login starting
// with "refus" is denied (access_denied), and "Annuler" cancels (access_denied too).
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID || 'incubateur';
const clientSecret = process.env.CLIENT_SECRET || 'secret';
const redirectUris = (process.env.REDIRECT_URIS || '').split(' ').filter(Boolean);
const postLogoutRedirectUris = (process.env.POST_LOGOUT_REDIRECT_URIS || '').split(' ').filter(Boolean);

function rsaKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: 'signing-key', use: 'sig', alg: 'RS256' };
}

const signingKey = rsaKey();
// Same kid, other material: what a client sees when the keys it is given are not those
// that signed (a forged token, or a man in the middle).
const rogueKey = rsaKey();
let publishRogueKey = false;

const CLAIMS = ['given_name', 'usual_name', 'email', 'uid', 'siret', 'organizational_unit',
  'belonging_population'];
const accounts = new Map(); // login -> claims
const loginsBySub = new Map();

function subFor(login) {
  // A subject per service, like ProConnect: not the email, stable for a login.
  return createHash('sha256').update(`${clientId}:${login}`).digest('hex');
}

function claimsFor(login) {
  const local = login.split('@')[0];
  return {
    email: login,
    given_name: local.split('.')[0] || 'Camille',
    usual_name: local.split('.')[1] || 'Agent',
    uid: local,
    siret: '21000000000000',
    ...(accounts.get(login) || {}),
  };
}

function clientMetadata(id, signed) {
  return {
    client_id: id,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
    ...(signed ? { userinfo_signed_response_alg: 'RS256' } : {}),
  };
}

function page(title, body) {
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`;
}

const configuration = {
  clients: [clientMetadata(clientId, true), clientMetadata(`${clientId}-json`, false)],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomUUID()] },
  pkce: { required: () => true },
  claims: Object.fromEntries([['openid', ['sub']], ...CLAIMS.map((c) => [c, [c]])]),
  scopes: ['openid', ...CLAIMS],
  ttl: { AccessToken: 60, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
  features: {
    devInteractions: { enabled: false },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        // ProConnect signs out at once: the form is sent by itself (a button without script).
        const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>');
        ctx.body = page('Déconnexion du fournisseur de test',
          `${confirmed}<button type="submit" form="op.logoutForm">Se déconnecter</button>
<script>document.getElementById('op.logoutForm').submit()</script>`);
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async loadExistingGrant(ctx) {
    // No consent screen (ProConnect has none): the scopes asked for are granted.
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const login = loginsBySub.get(sub);
    if (!login) return undefined;
    return { accountId: sub, async claims() { return { sub, ...claimsFor(login) }; } };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Erreur du fournisseur de test', `<p>${out.error}: ${out.error_description || ''}</p>`);
  },
};

const provider = new Provider(issuer, configuration);
const oidcCallback = provider.callback();

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'text/plain', 'interaction inconnue');
  if (req.method === 'GET' && action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: "L'utilisateur a annulé la connexion",
    }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'GET') {
    return send(res, 200, 'text/html; charset=utf-8', page('Fournisseur de test', `
<form method="post" action="/interaction/${uid}">
  <label for="login">Adresse électronique</label>
  <input id="login" name="login" type="email" required autofocus>
  <button type="submit">Continuer</button>
</form>
<p><a href="/interaction/${uid}/abort">Annuler</a></p>`));
  }
  const login = new URLSearchParams(await readBody(req)).get('login') || '';
  if (login.startsWith('refus')) {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'Accès refusé par le fournisseur',
    }, { mergeWithLastSubmission: false });
  }
  const sub = subFor(login);
  loginsBySub.set(sub, login);
  return provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/__test__/accounts' && req.method === 'POST') {
      accounts.clear();  // the accounts of one test only
      for (const [login, claims] of Object.entries(JSON.parse(await readBody(req)))) accounts.set(login, claims);
      return send(res, 204, 'text/plain', '');
    }
    if (url.pathname === '/__test__/jwks' && req.method === 'POST') {
      publishRogueKey = Boolean(JSON.parse(await readBody(req)).rogue);
      return send(res, 204, 'text/plain', '');
    }
    if (url.pathname === '/jwks' && publishRogueKey) {
      const { d, p, q, dp, dq, qi, ...publicPart } = rogueKey;
      return send(res, 200, 'application/jwk-set+json', JSON.stringify({ keys: [publicPart] }));
    }
    if (url.pathname === '/token' && /^basic /i.test(req.headers.authorization || '')) {
      // ProConnect documents client_secret_post only (oidc-provider would accept Basic too).
      return send(res, 401, 'application/json', JSON.stringify({
        error: 'invalid_client', error_description: 'client_secret_post attendu' }));
    }
    const match = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(abort))?$/);
    if (match) return await interaction(req, res, match[1], match[2]);
    return oidcCallback(req, res);
  } catch (error) {
    console.error(error);
    return send(res, 500, 'text/plain', String(error));
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ready on ${issuer}`);
});
