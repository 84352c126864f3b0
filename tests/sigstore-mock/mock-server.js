// Local mock Fulcio + Rekor(v1) + TSA on 127.0.0.1, built on @sigstore/mock's
// exported handler factories (the same approach as the unpublished
// sigstore-js packages/mock-server). Writes trusted_root.json for offline verify.
//
// usage: node mock-server.js [port] [out/trusted_root.json]
//
// Port 0 picks a free port. Once everything is listening and the trusted root is written, the
// server prints one line `READY <port>` on stdout (the integration tests wait for it).
//
// Like real Fulcio for GitHub Actions tokens, the certificate's SAN is
// `https://github.com/<job_workflow_ref>` when the token has a `job_workflow_ref` claim;
// otherwise it is the token's `sub`. The token's signature is not checked.
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const {
  initializeCA, initializeCTLog, initializeTLog, initializeTSA,
  fulcioHandler, rekorHandler, tsaHandler,
} = require('@sigstore/mock');
const { TrustedRoot, HashAlgorithm, PublicKeyDetails } = require('@sigstore/protobuf-specs');
const asn1js = require('asn1js');
const pkijs = require('pkijs');

// Let @sigstore/mock's TSA echo 64-bit nonces (RFC 3161 DER clients such as sigstore-tsa / cosign
// send random u64 nonces; the mock builds `new asn1js.Integer({ value: nonce })` from a JS number).
const OrigInteger = asn1js.Integer;
asn1js.Integer = class extends OrigInteger {
  constructor(params = {}) {
    if (typeof params.value === 'bigint') {
      let hex = params.value.toString(16); if (hex.length % 2) hex = '0' + hex;
      if (parseInt(hex[0], 16) >= 8) hex = '00' + hex;
      super({ valueHex: Buffer.from(hex, 'hex') });
    } else super(params);
  }
};

const wantedPort = Number(process.argv[2] || 0);
const out = process.argv[3] || 'trusted_root.json';
let url;

function tlogInstance(key) {
  return {
    baseUrl: url,
    logId: { keyId: crypto.createHash('sha256').update(key).digest() },
    hashAlgorithm: HashAlgorithm.SHA2_256,
    publicKey: {
      rawBytes: key,
      keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
      validFor: { start: new Date(Date.now() - 3600_000) },
    },
    checkpointKeyId: undefined,
    operator: 'sigstore.mock',
  };
}
function ca(certs) {
  return {
    subject: { commonName: 'sigstore', organization: 'sigstore.mock' },
    uri: url,
    certChain: { certificates: certs.map((c) => ({ rawBytes: Buffer.from(c.buffer) })) },
    validFor: { start: new Date(Date.now() - 3600_000) },
    operator: 'sigstore.mock',
  };
}

// Real Fulcio's GitHub Actions issuer: SAN = the workflow that ran the job (BuildSignerURI).
function githubSubject(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return token;
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (!claims.job_workflow_ref) return token;
  claims.sub = `https://github.com/${claims.job_workflow_ref}`;
  return [parts[0], Buffer.from(JSON.stringify(claims)).toString('base64url'), parts[2]].join('.');
}

// Real Rekor re-encodes a certificate verifier as Go's PEM (LF line ends, 64-column base64),
// whatever PEM flavour the client sent (sigstore-rs sends CRLF); verifiers that rebuild the
// entry body (sigstore-python) compare against that form.
function canonicalVerifier(b64) {
  const pem = Buffer.from(b64, 'base64').toString();
  if (!pem.includes('BEGIN CERTIFICATE')) return b64;
  return Buffer.from(new crypto.X509Certificate(pem).toString()).toString('base64');
}

const server = http.createServer();
server.listen(wantedPort, '127.0.0.1', () => main().catch((e) => { console.error(e); process.exit(1); }));

async function main() {
  const port = server.address().port;
  url = `http://127.0.0.1:${port}`;
  const keyPair = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await initializeCTLog(keyPair);
  const fca = await initializeCA(keyPair, ctlog);
  const tlog = await initializeTLog(url, keyPair);
  // Whole-second TSA genTime: @sigstore/mock emits fractional seconds without trailing
  // zeros ("...27.91Z"), which @sigstore/core (expects .sss) and the Rust `der` crate
  // (no fractions at all) reject. A Proxy'd Date that always reads "now, truncated".
  const wholeSecondClock = new Proxy(new Date(), {
    get(_t, p) { const d = new Date(Math.floor(Date.now() / 1000) * 1000); const v = d[p]; return typeof v === 'function' ? v.bind(d) : v; },
  });
  const tsa = await initializeTSA(keyPair, wholeSecondClock);

  // subjectClaim 'sub' -> SAN URI = token's `sub` claim (put a workflow URL there)
  const fulcio = fulcioHandler(fca, { strict: true, subjectClaim: 'sub' });
  const rekor = rekorHandler(tlog, { strict: true });
  const timestamp = tsaHandler(tsa, { strict: true });

  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    certificateAuthorities: [ca([fca.rootCertificate])],
    ctlogs: [tlogInstance(ctlog.publicKey)],
    tlogs: [tlogInstance(tlog.publicKey)],
    timestampAuthorities: [ca([tsa.intCertificate, tsa.rootCertificate])],
  };
  fs.writeFileSync(out, JSON.stringify(TrustedRoot.toJSON(TrustedRoot.fromJSON(TrustedRoot.toJSON(trustedRoot))), null, 2));

  const routes = { [fulcio.path]: fulcio, [rekor.path]: rekor, [timestamp.path]: timestamp };

  server.on('request', (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const route = routes[req.url.split('?')[0]];
      if (req.method !== 'POST' || !route) { res.writeHead(404); return res.end('not found'); }
      const raw = Buffer.concat(chunks);
      let body = raw.toString();
      if (route === timestamp && (req.headers['content-type'] || '').includes('timestamp-query')) {
        // DER RFC 3161 TimeStampReq (the real TSA accepts it; @sigstore/mock only parses JSON)
        const tsq = pkijs.TimeStampReq.fromBER(raw);
        const der = await tsa.timestamp({
          artifactHash: Buffer.from(tsq.messageImprint.hashedMessage.valueBlock.valueHexView),
          hashAlgorithmOID: tsq.messageImprint.hashAlgorithm.algorithmId,
          nonce: tsq.nonce ? tsq.nonce.toBigInt() : 1234567890,
          policyOID: tsq.reqPolicy || '1.3.6.1.4.1.57264.2',
          certReq: !!tsq.certReq,
        });
        res.writeHead(201, { 'Content-Type': 'application/timestamp-reply' });
        console.log(req.method, req.url, 201, '(DER)');
        return res.end(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
      }
      if (route === fulcio) {
        // Adapt real-Fulcio wire format to @sigstore/mock's expectations:
        //  - token may arrive as `Authorization: Bearer` (sigstore-rs, cosign) instead of in the body
        //  - certificateSigningRequest is base64(PEM CSR) on the wire
        const j = JSON.parse(body || '{}');
        const auth = req.headers['authorization'];
        if (!j.credentials && auth) j.credentials = { oidcIdentityToken: auth.replace(/^Bearer\s+/i, '') };
        if (j.credentials && j.credentials.oidcIdentityToken) j.credentials.oidcIdentityToken = githubSubject(j.credentials.oidcIdentityToken);
        if (j.certificateSigningRequest && !j.certificateSigningRequest.includes('BEGIN')) {
          j.certificateSigningRequest = Buffer.from(j.certificateSigningRequest, 'base64').toString();
        }
        body = JSON.stringify(j);
      }
      if (route === rekor) {
        // Real Rekor canonicalizes dsse/0.0.1 proposals; @sigstore/mock stores them verbatim.
        const j = JSON.parse(body);
        if (j.kind === 'dsse' && j.spec && j.spec.proposedContent) {
          const envStr = j.spec.proposedContent.envelope;
          const env = JSON.parse(envStr);
          const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
          body = JSON.stringify({
            apiVersion: '0.0.1', kind: 'dsse',
            spec: {
              envelopeHash: { algorithm: 'sha256', value: sha(envStr) },
              payloadHash: { algorithm: 'sha256', value: sha(Buffer.from(env.payload, 'base64')) },
              signatures: env.signatures.map((s, i) => ({ signature: s.sig, verifier: canonicalVerifier(j.spec.proposedContent.verifiers[i]) })),
            },
          });
        }
      }
      let r = await route.fn(body);
      res.writeHead(r.statusCode, { 'Content-Type': r.contentType || 'text/plain' });
      res.end(r.response);
      console.log(req.method, req.url, r.statusCode);
    });
  });
  console.log(`READY ${port}`);
}
