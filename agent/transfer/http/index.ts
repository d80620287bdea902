/** HTTP and HTTPS (undici): the client that streams an image into a sink, with redirects, Range resume and a private CA. */
export { fetchHttp, parseHttpUrl, type FetchHttpOptions, type FetchHttpResult, type HttpTarget } from "./client.js";
export { httpImageSource } from "./source.js";
export { MAX_REDIRECTS, MAX_RESUMES, DEFAULT_HTTP_TIMEOUT_MS } from "./limits.js";
