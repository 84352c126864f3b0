// Benchmark helper: verify many Sigstore bundles with @sigstore/verify in ONE warm Node
// process, the same work `benches/validate.rs` times for us.
//
// usage: node bench-verify.js LIST key PUBLIC_KEY_PEM [WARMUP]
//        node bench-verify.js LIST keyless TRUSTED_ROOT IDENTITY ISSUER [WARMUP]
//
// LIST has one `BUNDLE_PATH<TAB>ARTIFACT_PATH` per line. For each: read and parse the bundle,
// verify it, hash the artifact and require its SHA-256 among the statement's subjects.
// - key: the DSSE signature with the public key (no log or timestamp thresholds: the bundles
//   are offline key-signed).
// - keyless: with the trust material of TRUSTED_ROOT (built once), the Fulcio certificate
//   chain, one SCT, one transparency-log entry (SET / inclusion proof) and a trusted signing
//   time, and the certificate's SAN equal to IDENTITY and its OIDC issuer to ISSUER.
// WARMUP bundles (default 20) are verified first, untimed. Prints one JSON line:
// {"verified": N, "failed": F, "seconds": S, "max_rss_kib": K}
const crypto = require('crypto');
const fs = require('fs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const usage = 'usage: node bench-verify.js LIST key PUBLIC_KEY_PEM [WARMUP]\n'
  + '       node bench-verify.js LIST keyless TRUSTED_ROOT IDENTITY ISSUER [WARMUP]';
const [listPath, mode, ...rest] = process.argv.slice(2);

let verifier;
let policy;
let warmup;
if (mode === 'key' && rest.length >= 1) {
  const publicKey = crypto.createPublicKey(fs.readFileSync(rest[0], 'utf8'));
  const root = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
  const material = toTrustMaterial(root, () => ({ publicKey, validFor: () => true }));
  verifier = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  policy = undefined;
  warmup = rest[1];
} else if (mode === 'keyless' && rest.length >= 3) {
  const [rootPath, identity, issuer] = rest;
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
  verifier = new Verifier(toTrustMaterial(root), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
    timestampThreshold: 1,
  });
  policy = { subjectAlternativeName: identity, extensions: { issuer } };
  warmup = rest[3];
} else {
  console.error(usage);
  process.exit(2);
}

const pairs = fs
  .readFileSync(listPath, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split('\t'));

function verifyOne([bundlePath, artifactPath]) {
  const json = JSON.parse(fs.readFileSync(bundlePath, 'utf8'));
  verifier.verify(toSignedEntity(bundleFromJSON(json)), policy);
  const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64'));
  const digest = crypto.createHash('sha256').update(fs.readFileSync(artifactPath)).digest('hex');
  if (!statement.subject.some((s) => s.digest && s.digest.sha256 === digest)) {
    throw new Error(`no subject with sha256 ${digest}`);
  }
}

for (const p of pairs.slice(0, Number(warmup || '20'))) verifyOne(p);
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
