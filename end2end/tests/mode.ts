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
    body: JSON.stringify({ sub, ttl_secs: ttlSecs }),
  });
  if (!res.ok) throw new Error(`minting a token failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { jwt: string }).jwt;
}

// The release suite's publishable key: a Frontend API host that the tests route to a stand-in
// for ClerkJS (end2end/support/clerk-standin.js) instead of the network.
export const standinFrontendApi = 'clerk.standin.test';
export const standinPublishableKey = `pk_test_${Buffer.from(`${standinFrontendApi}$`).toString('base64').replace(/=+$/, '')}`;
