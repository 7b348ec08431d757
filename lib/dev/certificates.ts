import { writeFile } from "node:fs/promises";
import { generate } from "selfsigned";

export interface IssuedCertificate {
  readonly key: string;
  readonly cert: string;
}

export interface LocalCertificateAuthority {
  /** PEM of the CA: what NODE_EXTRA_CA_CERTS points the delivery functions at. */
  readonly caCert: string;
  /** A server certificate for loopback receivers (localhost, 127.0.0.1, ::1). */
  issueLoopbackCertificate(): Promise<IssuedCertificate>;
  /** Writes the CA's PEM to `file`, after `otherCas` (PEM) when given: a NODE_EXTRA_CA_CERTS file. */
  writeCaFile(file: string, otherCas?: string): Promise<void>;
}

/**
 * A throwaway certificate authority for HTTPS receivers on this machine: local receivers
 * speak TLS like real ones, and the delivery functions trust them only because the local
 * runtime hands them this CA.
 */
export async function createLocalCertificateAuthority(name = "Fiscal Webhooks Local CA"): Promise<LocalCertificateAuthority> {
  const ca = await generate([{ name: "commonName", value: name }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return {
    caCert: ca.cert,
    async issueLoopbackCertificate() {
      const leaf = await generate([{ name: "commonName", value: "localhost" }], {
        keyType: "ec",
        algorithm: "sha256",
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
          {
            name: "subjectAltName",
            altNames: [
              { type: 2, value: "localhost" },
              { type: 7, ip: "127.0.0.1" },
              { type: 7, ip: "::1" },
            ],
          },
        ],
      });
      return { key: leaf.private, cert: leaf.cert };
    },
    writeCaFile: (file, otherCas = "") => writeFile(file, `${otherCas.trimEnd()}\n${ca.cert}`.trimStart()),
  };
}
