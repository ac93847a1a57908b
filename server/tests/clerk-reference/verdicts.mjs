// Clerk's verdict on each request, from Clerk's own code: `authenticateRequest` of the pinned
// @clerk/backend, with the instance's public key as `jwtKey` (session and machine JWTs verify
// offline) and, for opaque machine tokens, the Backend API at `apiUrl` (the fake Clerk). Reads one
// JSON document on stdin: { pem, publishableKey, secretKey?, apiUrl?, authorizedParties, url,
// cases: [{ headers, acceptsToken? }] }, and writes a JSON array with one verdict per case:
// { signedIn, tokenType, userId, orgId, subject, scopes, status, reason, plans, features,
// reverified }: Clerk's `has({ plan })` for each of `input.plans`, `has({ feature })` for each of
// `input.features`, and `has({ reverification })` for each preset.
import { createClerkClient } from '@clerk/backend';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => (text += chunk));
  process.stdin.on('end', () => resolve(text));
}));

const clerk = createClerkClient({
  // Checked for presence only unless a case carries an opaque machine token.
  secretKey: input.secretKey ?? 'sk_live_offline',
  apiUrl: input.apiUrl,
  publishableKey: input.publishableKey,
  jwtKey: input.pem,
  telemetry: { disabled: true },
});

const verdicts = [];
for (const { headers, acceptsToken } of input.cases) {
  const state = await clerk.authenticateRequest(new Request(input.url, { headers }), {
    authorizedParties: input.authorizedParties,
    ...(acceptsToken === undefined ? {} : { acceptsToken }),
  });
  const auth = state.toAuth();
  verdicts.push({
    signedIn: Boolean(auth?.isAuthenticated),
    tokenType: auth?.tokenType ?? null,
    userId: auth?.userId ?? null,
    orgId: auth?.orgId ?? null,
    subject: auth?.subject ?? null,
    scopes: auth?.scopes ?? null,
    status: state.status,
    reason: state.reason ?? null,
    // Clerk Billing: `has({ plan })` and `has({ feature })` for each name asked.
    plans: Object.fromEntries((input.plans ?? []).map((plan) => [plan, Boolean(auth?.has?.({ plan }))])),
    features: Object.fromEntries((input.features ?? []).map((feature) => [feature, Boolean(auth?.has?.({ feature }))])),
    reverified: Object.fromEntries(
      ['strict', 'moderate', 'lax', 'strict_mfa'].map((preset) => [preset, Boolean(auth?.has?.({ reverification: preset }))]),
    ),
  });
}
process.stdout.write(JSON.stringify(verdicts));
