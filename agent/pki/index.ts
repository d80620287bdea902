/** X.509 for the product and the lab: keys, a CA, controller and AP certificates (`vap pki init`), image-signing certificates build on it. */
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
  PKI_KEY_TYPES,
  DEFAULT_PKI_KEY_TYPE,
  type PkiKeyType,
  type KeyPair,
  type IssuedCertificate,
  type Validity,
  type LeafRequest,
  type PkiOptions,
  type PkiFiles,
} from "./pki.js";
export { pkiInitCommand } from "./command.js";
