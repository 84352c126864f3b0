// Verify a Sigstore bundle (DSSE in-toto statement) with sigstore-js's @sigstore/verify.
//
// usage: node verify.js BUNDLE TRUSTED_ROOT IDENTITY ISSUER SUBJECT_SHA256 [TLOG_THRESHOLD]
//
// IDENTITY is the certificate SAN, ISSUER the OIDC issuer; SUBJECT_SHA256 must be the digest of
// one of the statement's subjects. TLOG_THRESHOLD defaults to 1 (0 for bundles from an instance
// without a transparency log, which then need an RFC 3161 timestamp).
// Prints `OK <san>` and exits 0, or `FAIL <reason>` and exits 1.
const fs = require('fs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const [bundlePath, rootPath, identity, issuer, subject, tlog = '1'] = process.argv.slice(2);
if (!subject) {
  console.log('FAIL usage: node verify.js BUNDLE TRUSTED_ROOT IDENTITY ISSUER SUBJECT_SHA256 [TLOG_THRESHOLD]');
  process.exit(2);
}
try {
  const json = JSON.parse(fs.readFileSync(bundlePath, 'utf8'));
  const bundle = bundleFromJSON(json);
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
  const verifier = new Verifier(toTrustMaterial(root), {
    tlogThreshold: Number(tlog),
    ctlogThreshold: 1,
    timestampThreshold: 1,
  });
  const signer = verifier.verify(toSignedEntity(bundle), {
    subjectAlternativeName: identity,
    extensions: { issuer },
  });
  // A DSSE signature covers the statement; binding it to an artifact is the caller's job.
  const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64'));
  if (!statement.subject.some((s) => s.digest && s.digest.sha256 === subject)) {
    console.log(`FAIL no subject with sha256 ${subject}`);
    process.exit(1);
  }
  console.log(`OK ${signer.identity.subjectAlternativeName}`);
} catch (e) {
  console.log(`FAIL ${e.code || ''} ${e.message}`);
  process.exit(1);
}
