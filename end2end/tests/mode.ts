// Which build the suite runs against. `E2E_RELEASE=1` (scripts/test.sh sets it for the release
// build) means no dev mode: users come from the fake Clerk instead of the dev sign-in form.
export const isRelease = process.env.E2E_RELEASE === '1';
export const fakeClerkUrl = `http://127.0.0.1:${process.env.E2E_FAKE_CLERK_PORT ?? '3199'}`;
// The fake's fixed secret key (fake_clerk::FakeClerk::SECRET_KEY).
export const fakeClerkSecret = 'sk_test_fakeclerkSecretKey0000000000';

/// A session token for `sub`, signed by the fake Clerk with the key the server verifies against.
export async function mintSessionToken(sub: string, ttlSecs = 3600): Promise<string> {
  const res = await fetch(`${fakeClerkUrl}/__fake/session-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fakeClerkSecret}`, 'content-type': 'application/json' },
    // `azp` as ClerkJS on this app's pages would get it: the release server checks it.
    body: JSON.stringify({ sub, ttl_secs: ttlSecs, azp: `http://127.0.0.1:${process.env.E2E_PORT ?? '3100'}` }),
  });
  if (!res.ok) throw new Error(`minting a token failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { jwt: string }).jwt;
}

// The release suite's Clerk instance: a development instance whose Frontend API host the tests
// route to the fake Clerk's Frontend API, and whose ClerkJS comes from the pinned npm tarball
// (scripts/setup-test.sh), never from the network. A dev-suffix host (`.accounts.dev`) makes
// ClerkJS run its dev-browser handshake, which gives each browser context its own client.
export const fakeFrontendApi = 'fake-fox-12.clerk.accounts.dev';
export const fakePublishableKey = `pk_test_${Buffer.from(`${fakeFrontendApi}$`).toString('base64').replace(/=+$/, '')}`;
// Every user the fake seeds signs in with this password (`fake-clerk --password`).
export const fakeUserPassword = 'correct-horse-battery-staple';
// The fake's Svix secret (fake_clerk::TEST_WEBHOOK_SECRET), which the release server is given.
export const webhookSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Changes how the fake's Frontend API mints tokens (absent fields take their defaults). */
export async function fakeFapiSettings(settings: {
  token_ttl_secs?: number;
  foreign_signing?: boolean;
  first_factor_age_minutes?: number;
  plans?: string;
}) {
  const res = await fetch(`${fakeClerkUrl}/__fake/fapi/settings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fakeClerkSecret}`, 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
  if (!res.ok) throw new Error(`fake FAPI settings failed: ${res.status} ${await res.text()}`);
}
