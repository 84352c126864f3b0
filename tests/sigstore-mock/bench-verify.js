// Benchmark helper: verify many key-signed Sigstore bundles with @sigstore/verify in ONE warm
// Node process, the same work `benches/validate.rs` times for us.
//
// usage: node bench-verify.js LIST PUBLIC_KEY_PEM [WARMUP]
//
// LIST has one `BUNDLE_PATH<TAB>ARTIFACT_PATH` per line. For each: read and parse the bundle,
// verify its signature with the key (no log or timestamp thresholds: the bundles are offline
// key-signed), hash the artifact and require its SHA-256 among the statement's subjects.
// WARMUP bundles (default 20) are verified first, untimed. Prints one JSON line:
// {"verified": N, "failed": F, "seconds": S, "max_rss_kib": K}
const crypto = require('crypto');
const fs = require('fs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');

const [listPath, keyPath, warmup = '20'] = process.argv.slice(2);
if (!keyPath) {
  console.error('usage: node bench-verify.js LIST PUBLIC_KEY_PEM [WARMUP]');
  process.exit(2);
}
const publicKey = crypto.createPublicKey(fs.readFileSync(keyPath, 'utf8'));
const root = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
const material = toTrustMaterial(root, () => ({ publicKey, validFor: () => true }));
const verifier = new Verifier(material, {
  tlogThreshold: 0,
  ctlogThreshold: 0,
  timestampThreshold: 0,
});
const pairs = fs
  .readFileSync(listPath, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split('\t'));

function verifyOne([bundlePath, artifactPath]) {
  const json = JSON.parse(fs.readFileSync(bundlePath, 'utf8'));
  verifier.verify(toSignedEntity(bundleFromJSON(json)));
  const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64'));
  const digest = crypto.createHash('sha256').update(fs.readFileSync(artifactPath)).digest('hex');
  if (!statement.subject.some((s) => s.digest && s.digest.sha256 === digest)) {
    throw new Error(`no subject with sha256 ${digest}`);
  }
}

for (const p of pairs.slice(0, Number(warmup))) verifyOne(p);
let verified = 0;
let failed = 0;
const start = process.hrtime.bigint();
for (const p of pairs) {
  try {
    verifyOne(p);
    verified++;
  } catch (e) {
    if (failed === 0) console.error(`first failure: ${p[0]}: ${e.message}`);
    failed++;
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ verified, failed, seconds, max_rss_kib: process.resourceUsage().maxRSS }));
