// Clerk's verdict on each request, from Clerk's own code: `authenticateRequest` of the pinned
// @clerk/backend, fully offline (the instance's public key as `jwtKey`). Reads one JSON document
// on stdin: { pem, publishableKey, authorizedParties, url, cases: [{ headers }] }, and writes a
// JSON array with one verdict per case: { signedIn, userId, orgId, status, reason, reverified },
// where `reverified` is Clerk's `has({ reverification })` for each preset.
import { createClerkClient } from '@clerk/backend';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => (text += chunk));
  process.stdin.on('end', () => resolve(text));
}));

const clerk = createClerkClient({
  // Checked for presence only: with a jwtKey nothing is fetched.
  secretKey: 'sk_live_offline',
  publishableKey: input.publishableKey,
  jwtKey: input.pem,
  telemetry: { disabled: true },
});

const verdicts = [];
for (const { headers } of input.cases) {
  const state = await clerk.authenticateRequest(new Request(input.url, { headers }), {
    authorizedParties: input.authorizedParties,
  });
  const auth = state.toAuth();
  verdicts.push({
    signedIn: Boolean(auth?.isAuthenticated),
    userId: auth?.userId ?? null,
    orgId: auth?.orgId ?? null,
    status: state.status,
    reason: state.reason ?? null,
    reverified: Object.fromEntries(
      ['strict', 'moderate', 'lax', 'strict_mfa'].map((preset) => [preset, Boolean(auth?.has?.({ reverification: preset }))]),
    ),
  });
}
process.stdout.write(JSON.stringify(verdicts));
