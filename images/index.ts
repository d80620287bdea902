/**
 * Signed firmware images (SPEC.md §5): build, sign, verify, extract,
 * inspect. An image is a POSIX ustar archive whose members are, in order:
 *
 *   info              image_family: <class> / ws_management_version: <a.b.c.d> / info_end:
 *   <payload>…        regular files (default: part.bin, ramfs_data_cisco.squashfs, iox.tar.gz)
 *   file_hashes       "<sha256 hex>  <name>\n" for info and every payload member, in order
 *   final_hash        hex(SHA-256(info bytes ‖ file_hashes bytes)) + "\n"
 *   final_hash.sig    signature over the final_hash member's 65 bytes, SHA-256:
 *                     DER ECDSA (P-256 default) or RSASSA-PKCS1-v1_5 — what
 *                     `openssl dgst -sha256 -sign key final_hash` makes
 *   signing_cert.pem  signing certificate, then intermediates (canonical PEM)
 *   info.ver          a copy of info
 * followed by two zero blocks (any further zero blocks are tolerated, other
 * bytes are not). Names are flat; members are regular files, mode 0644.
 *
 * For the upgrade engine:
 * - verifyImage(source, options) / ImageVerifier: the single-pass streaming
 *   verifier; members go to an MemberSink while they are checked.
 *   fileSource(path) reads a staged image with one reused buffer.
 * - directorySink(dir) (the standby partition) and hashOnlySink() (store
 *   nothing); verifyImageDirectory(dir) to check an extracted image again.
 * - imageLimits(hardwareClass): the /tmp and partition limits to pass;
 *   rootsFor(policy, trust) checks the trusted roots up front (ConfigError).
 * - ImageRejectedError: every refusal, with a stable code and a one-line
 *   message naming the member.
 * For tools and the lab: buildImage, buildBundle, generateImageKeys,
 * loadSigner/signerFromPem, inspectImage.
 */
export { ImageRejectedError, type ImageRejectCode } from "./errors.js";
export type { ImageInfo } from "./format.js";
export type { SignaturePolicy, ImageSignerInfo } from "./trust.js";
export { directorySink, hashOnlySink, type MemberSink, type MemberFile } from "./sink.js";
export { verifyImage, ImageVerifier, imageLimits, fileSource, rootsFor, type ImageSource, type ImageLimits, type VerifyOptions, type VerifiedImage, type ImageMember } from "./verify.js";
export { verifyImageDirectory, readImageDirectoryInfo, checkImageDirectoryFiles, type MemberCheck, type VerifyDirectoryOptions } from "./directory.js";
export { buildImage, buildBundle, imageSizeFor, imageSizeFlag, SMALL_IMAGE_BYTES, type BuildImageOptions, type BuiltImage, type BuildBundleOptions, type BuiltBundle, type ImageSize } from "./build.js";
export { generateImageKeys, loadSigner, signerFromPem, issueImageSigner, type ImageSigner, type KeygenOptions, type ImageKeyFiles, type SignerRequest } from "./keys.js";
export { inspectImage, type ImageInspection, type InspectedMember, type InspectedCertificate } from "./inspect.js";
export { imageCommands } from "./command.js";
