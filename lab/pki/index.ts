/** X.509 for the lab and the image tools: keys, a CA, controller and AP certificates (`vap pki init`). */
export {
  generateKey,
  serialNumber,
  validFor,
  issueCa,
  issueLeaf,
  parseMac,
  apCommonName,
  writeCredential,
  initPki,
  type PkiKeyType,
  type KeyPair,
  type IssuedCertificate,
  type Validity,
  type LeafRequest,
  type PkiOptions,
  type PkiFiles,
} from "./pki.js";
