/**
 * One AP's session on the lab controller: the shell around the pure session
 * table (session-machine.ts). It owns the AP's control channel, DTLS session,
 * idle timer and image transfer; it turns what arrives into the table's
 * inputs and carries out the effects the table returns, in their order.
 */
import { type EventEmitter } from "node:events";
import { MessageType, messageTypeName, ResultCode, resultCodeName } from "../../agent/capwap/codec/index.js";
import { ControlChannel, maxControlPacket } from "../../agent/capwap/channel/index.js";
import type { DtlsSession } from "../../agent/capwap/dtls/index.js";
import { type AcInfo, type Element, findElement, type Message, type VendorProfile } from "../../agent/capwap/profiles/index.js";
import { describeError, type TimerHandle } from "../../agent/core/index.js";
import type { Endpoint } from "../../agent/net/index.js";
import { type ApPhase, type ApRecord, type DownloadRecord, methodLabel, predownloadPart } from "./ap-record.js";
import { type ApFaults, type FaultInjector, KEEP_ALIVE } from "./fault-plan.js";
import { ImageTransfer, openRequestedImage } from "./image-transfer.js";
import type { LabControllerEvents, ResolvedOptions } from "./options.js";
import { type Answer, type EfficientOrder, openingState, type OperatorCommand, type SessionContext, type SessionEffect, type SessionInput, type SessionState, type Ticket, transition } from "./session-machine.js";

/** What an ApSession needs of its controller. */
export interface SessionHost {
  readonly options: ResolvedOptions;
  readonly profile: VendorProfile;
  /** Where the AP table's changes are told. */
  readonly events: EventEmitter<LabControllerEvents>;
  /** An AP silent this long is gone. */
  readonly idleTimeoutMs: number;
  /** The fault plan at work, in the lab and tests only. */
  readonly faults: FaultInjector | undefined;
  downloadSlot(): Promise<() => void>;
  acInfo(): AcInfo;
  capture(direction: "in" | "out", peer: Endpoint, packet: Uint8Array): void;
  /** A packet from the AP was thrown away (the channel logs it within its rate limit). */
  discarded(): void;
  /** An image download began, by this Method (the controller counts them). */
  downloadStarted(method: string): void;
  /** The AP joined with this Session ID (hex; `previous` if it had joined before): its keep-alives find the session by it. */
  joined(session: ApSession, sessionId: string, previous: string | undefined): void;
  /** A session moved from one phase to another (the controller counts APs in Run). */
  phaseChanged(from: ApPhase, to: ApPhase): void;
  /** The session ended: out of every table and count. */
  forget(session: ApSession, sessionId: string | undefined): void;
  /** The site tag an AP with this base MAC is in. */
  siteTagOf(baseMac: string | undefined): string;
}

export class ApSession {
  readonly record: ApRecord;
  readonly channel: ControlChannel;
  readonly #host: SessionHost;
  readonly #o: ResolvedOptions;
  readonly #context: SessionContext;
  #state: SessionState;
  /** Hex, once joined. */
  #sessionId: string | undefined;
  /** The idle deadline's one timer; it looks at #lastSeen when it fires. */
  #idle: TimerHandle | undefined;
  #lastSeen: number;
  readonly #faults: ApFaults | undefined;
  /** The image transfer announced to the AP, running or waiting for a slot. */
  #transfer: ImageTransfer | undefined;
  /** Requests from the API wait while an image transfer owns the sequence numbers. */
  #transferDone: Promise<void> = Promise.resolve();
  /** Operators' requests on the wire, unanswered: the session's end refuses them (a closed channel forgets its requests). */
  readonly #awaiting = new Set<Ticket>();

  constructor(
    host: SessionHost,
    readonly key: string,
    readonly peer: Endpoint,
    private readonly dtls: DtlsSession | undefined,
  ) {
    this.#host = host;
    const options = (this.#o = host.options);
    this.#context = { key, address: peer.address, idleTimeoutMs: host.idleTimeoutMs, vendorId: host.profile.vendorId };
    const opening = openingState(dtls !== undefined);
    this.#state = opening;
    this.record = { key, address: peer.address, port: peer.port, phase: opening.phase, imageWindow: 1, echoes: 0 };
    const faults = (this.#faults = host.faults?.forAp(() => this.record.name ?? key));
    this.channel = new ControlChannel({
      profile: host.profile,
      clock: options.clock,
      maxPacketSize: () => maxControlPacket(peer.address, dtls),
      retransmitIntervalMs: options.retransmitIntervalMs,
      maxRetransmit: options.maxRetransmit,
      transmit: (packet) => this.#transmit(packet),
      // Only a fault plan pays for counting responses.
      ...(faults ? { dropResponse: (requestType: number) => faults.dropResponse(requestType) } : {}),
      onRequest: (message) => this.#onRequest(message),
      onDiscard: () => host.discarded(),
      diagnostics: { log: options.log, peer: key },
      onPacket: (direction, packet) => host.capture(direction, peer, packet),
    });
    this.#lastSeen = options.clock.now();
    this.#armIdle(host.idleTimeoutMs);
  }

  get closed(): boolean {
    return this.#state.phase === "Closed";
  }

  /** A plaintext CAPWAP packet from the AP (decrypted, or as it came in plaintext mode). */
  receive(packet: Uint8Array): void {
    this.seen();
    this.channel.receive(packet);
  }

  /**
   * Any packet from the AP is a sign of life, not only requests and
   * keep-alives: during a join-time image transfer an AP may send nothing
   * but Image Data Responses (vap's own sends no echo before Run). Called
   * per packet, so it only notes the time.
   */
  seen(): void {
    this.#lastSeen = this.#o.clock.now();
  }

  dtlsConnected(certificateSubject: string | undefined): void {
    this.#input({ kind: "dtls-connected", certificateSubject });
  }

  dtlsClosed(error: Error | undefined): void {
    this.#input({ kind: "dtls-closed", error: error?.message });
  }

  /** Whether the fault plan (if any) loses the answer to this data-channel keep-alive. */
  keepAliveAnswerLost(): boolean {
    return this.#faults?.dropResponse(KEEP_ALIVE) ?? false;
  }

  /** A data-channel keep-alive, answered: it may bring the AP to Run. */
  keepAlive(): void {
    this.#input({ kind: "keep-alive" });
  }

  /** A newer session from the same endpoint takes over (`shutdown`: the controller is closing). */
  end(cause: "replaced" | "shutdown"): void {
    this.#input({ kind: cause });
  }

  /** An operator's command; resolves with the AP's response. */
  command(command: OperatorCommand): Promise<Message> {
    return new Promise((resolve, reject) => this.#input({ kind: "command", command, ticket: { resolve, reject } }));
  }

  /** Order a predownload of `version` (in an efficient site, with the AP's role); resolves when the AP accepted the order. */
  async order(version: string, efficient?: EfficientOrder): Promise<void> {
    const result = resultOf(await this.command({ kind: "predownload", version, efficient }));
    if (result !== ResultCode.Success) throw new Error(`${this.record.name} refused the predownload: ${resultCodeName(result)}`);
  }

  inject(packet: Uint8Array): void {
    this.#transmit(packet);
  }

  #transmit(packet: Uint8Array): void {
    if (!this.dtls) this.#o.control.send(packet, this.peer);
    else if (this.dtls.state === "connected") this.dtls.send(packet);
  }

  #armIdle(ms: number): void {
    this.#idle = this.#o.clock.setTimer("ap-timeout", ms, () => this.#input({ kind: "idle-deadline", silentMs: this.#o.clock.now() - this.#lastSeen }));
  }

  #onRequest(message: Message): void {
    try {
      this.#input(this.#decode(message));
    } catch (err) {
      this.#o.log.warn(`Cannot answer ${messageTypeName(message.type)} from ${this.key}: ${describeError(err)}`);
    }
  }

  /** A request as the table's input: what it carries that the table decides on. */
  #decode(request: Message): SessionInput {
    const { profile } = this.#host;
    const { elements } = request;
    switch (request.type) {
      case MessageType.JoinRequest: {
        const wtp = profile.wtpSummary(elements);
        const admission = this.#faults?.admit(wtp) ?? ResultCode.Success;
        const oobPort = wtp.oobCapable ? this.#o.oob?.port : undefined;
        return { kind: "join-request", request, wtp, radios: profile.radios(elements), admission, offeredWindow: this.#o.imageWindow(wtp), oobPort };
      }
      case MessageType.ConfigurationStatusRequest:
        return { kind: "configuration-status-request", request };
      case MessageType.ChangeStateEventRequest:
        return { kind: "change-state-event-request", request };
      case MessageType.EchoRequest:
        return { kind: "echo-request", request };
      case MessageType.WtpEventRequest: {
        const server = findElement(elements, "PrimaryImageServer");
        const retry = findElement(elements, "PredownloadRetry");
        return {
          kind: "wtp-event-request",
          request,
          predownload: findElement(elements, "PredownloadStatus")?.state,
          imageServer: server && { address: server.address, port: server.port },
          retry: retry && { attempt: retry.attempt, tries: retry.tries, nextRetrySeconds: retry.nextRetrySeconds, reason: retry.reason },
        };
      }
      case MessageType.ImageDataRequest:
        return {
          kind: "image-data-request",
          request,
          image: findElement(elements, "ImageIdentifier")?.identifier,
          initiate: findElement(elements, "InitiateDownload") !== undefined,
          oobRequest: findElement(elements, "OobImageRequest") !== undefined,
          acceptedWindow: findElement(elements, "ImageWindow")?.window,
          fallback: findElement(elements, "OobFallback")?.reason,
        };
      case MessageType.DataTransferRequest:
        return { kind: "data-transfer-request", request };
      default:
        return { kind: "unknown-request", request };
    }
  }

  /** One step of the table; effects run in order, after the state moved (an effect may feed the next input). */
  #input(input: SessionInput): void {
    const next = transition(this.#state, input, this.#context);
    this.#state = next.state;
    for (const effect of next.effects) this.#execute(effect);
  }

  #execute(effect: SessionEffect): void {
    const { record } = this;
    const options = this.#o;
    switch (effect.kind) {
      case "respond":
        return this.channel.respond(effect.request, this.#render(effect.answer));
      case "send-request":
        return void this.#send(effect);
      case "refuse":
        return effect.ticket.reject(new Error(effect.reason));
      case "phase":
        return this.#setPhase(effect.phase);
      case "arm-idle":
        return this.#armIdle(effect.ms);
      case "cancel-idle":
        return this.#idle?.cancel();
      case "start-transfer":
        return this.#startTransfer(effect);
      case "offer-oob":
        return void this.#offerOob(effect.request, effect.image);
      case "stop-transfer":
        return this.#transfer?.abort(new Error(effect.reason));
      case "certificate":
        record.certificateSubject = effect.subject;
        return;
      case "joined": {
        const { wtp } = effect;
        this.#host.joined(this, effect.sessionId, this.#sessionId);
        this.#sessionId = effect.sessionId;
        Object.assign(record, {
          name: wtp.name,
          model: wtp.model,
          serial: wtp.serial,
          baseMac: wtp.baseMac,
          softwareVersion: wtp.softwareVersion,
          slots: this.#state.radios.length,
          oobCapable: wtp.oobCapable === true,
          siteTag: this.#host.siteTagOf(wtp.baseMac),
          imageWindow: effect.window,
          joinedAt: options.clock.now(),
        });
        return;
      }
      case "count-echo":
        record.echoes++;
        return;
      case "run-since":
        record.runSince = options.clock.now();
        return;
      case "announce-run":
        this.#host.events.emit("run", { ...record });
        return;
      case "download-queued": {
        const queued: DownloadRecord = { name: record.name ?? this.key, predownload: effect.version, state: "queued", size: 0, bytes: 0, window: record.imageWindow, ...effect.efficient };
        if (effect.efficient?.role !== "subordinate") return this.setDownload(queued);
        // A subordinate fetches from its primary at once; the controller hears only its retries and its end.
        this.#host.downloadStarted(methodLabel({ method: "TFTP" }));
        return this.setDownload({ ...queued, state: "downloading", method: "TFTP", window: 0, startedAt: options.clock.now() });
      }
      case "download-ended": {
        const d = record.download!;
        const { state, error } = effect;
        return this.setDownload({ ...d, state, bytes: error === undefined ? d.size : d.bytes, ...(state !== "downloading" ? { finishedAt: options.clock.now() } : {}), ...(error !== undefined ? { error } : {}) });
      }
      case "predownload-report": {
        const d = record.download;
        if (!d || d.state === effect.state) return;
        const { imageServer } = effect;
        return this.setDownload({ ...d, state: effect.state, ...(imageServer ? { imageServer } : {}), ...(effect.state !== "downloading" ? { finishedAt: options.clock.now() } : {}) });
      }
      case "predownload-retry": {
        const d = record.download;
        if (!d) return;
        const { attempt, tries, nextRetrySeconds, reason } = effect.retry;
        return this.setDownload({ ...d, retry: { attempt, tries, reason, nextRetryAt: options.clock.now() + nextRetrySeconds * 1000 } });
      }
      case "log":
        return options.log[effect.level](effect.line);
      case "close":
        this.channel.close();
        this.#refuseAwaiting();
        if (effect.notifyPeer || this.dtls?.state !== "closed") this.dtls?.close();
        return this.#host.forget(this, this.#sessionId);
      case "leave":
        this.#host.events.emit("leave", { ...record }, effect.reason);
        return;
    }
  }

  #render(answer: Answer): Element[] {
    const { profile, acInfo } = this.#host;
    switch (answer.kind) {
      case "join":
        return profile.joinResponse(acInfo(), answer.resultCode, answer.radios, { imageWindow: answer.window, ...(answer.oobPort !== undefined ? { oobPort: answer.oobPort } : {}) });
      case "configuration-status":
        return profile.configurationStatusResponse(acInfo(), answer.radios);
      case "echo":
        return profile.echoResponse(acInfo());
      case "empty":
        return [];
      case "result-code":
        return [{ kind: "ResultCode", resultCode: answer.resultCode }];
    }
  }

  #setPhase(phase: ApPhase): void {
    const from = this.record.phase;
    this.record.phase = phase;
    this.#host.phaseChanged(from, phase);
    this.#host.events.emit("phase", { ...this.record });
  }

  /** Image blocks are ordered by sequence number, so other requests wait for the transfer to end (and any that replaced it). */
  async #send({ type, elements, ticket }: Extract<SessionEffect, { kind: "send-request" }>): Promise<void> {
    for (let done = this.#transferDone; ; done = this.#transferDone) {
      await done;
      if (done === this.#transferDone) break;
    }
    if (this.closed) return ticket.reject(new Error(`AP ${this.record.name ?? this.key} left before ${messageTypeName(type)} went out`));
    this.#awaiting.add(ticket);
    this.channel.request(
      { type, elements },
      (response) => (this.#awaiting.delete(ticket), ticket.resolve(response)),
      () => (this.#awaiting.delete(ticket), this.#input({ kind: "request-unanswered", type, ticket })),
    );
  }

  #refuseAwaiting(): void {
    for (const ticket of this.#awaiting) ticket.reject(new Error(`AP ${this.record.name ?? this.key} left before it answered`));
    this.#awaiting.clear();
  }

  /**
   * The AP asks for an HTTPS offer: the image's size and MD5 as for CAPWAP,
   * its URL and a token for this AP and image. The download itself is
   * between the AP and the HTTPS server; the AP reports a predownload's end
   * as for CAPWAP, and falls back to CAPWAP (a new request) if it fails.
   */
  async #offerOob(request: Message, image: string): Promise<void> {
    const { record } = this;
    const file = await openRequestedImage(this.#host, this.channel, request, image, record);
    if (!file) return;
    const { size, md5 } = file;
    file.close();
    if (this.closed) return;
    let offer: { url: string; token: string };
    try {
      offer = this.#o.oob!.offer({ ap: record.baseMac ?? "", address: this.peer.address, image });
    } catch (err) {
      // An AP without a base MAC in its Join Request cannot be given a token: it downloads over CAPWAP instead.
      this.#o.log.warn(`Cannot offer image ${image} to ${record.name ?? this.key} over HTTPS: ${describeError(err)}`);
      this.channel.respond(request, [{ kind: "ResultCode", resultCode: ResultCode.ImageDataErrorOtherError }]);
      return;
    }
    const { url, token } = offer;
    this.channel.respond(request, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      { kind: "ImageInformation", fileSize: size, hash: md5 },
      { kind: "OobImageOffer", url, token },
    ]);
    this.#o.log.info(`Offering image ${image} (${size} bytes) to ${record.name} over HTTPS: ${url}`);
    this.#host.downloadStarted("HTTPS");
    this.setDownload({ name: image, state: "downloading", size, bytes: 0, window: 0, method: "HTTPS", startedAt: this.#o.clock.now(), ...predownloadPart(record.download) });
  }

  /** The AP asks for an image: announce it, then send it. */
  #startTransfer({ request, image, window, span, fallback }: Extract<SessionEffect, { kind: "start-transfer" }>): void {
    let transferEnded!: () => void;
    const done = new Promise<void>((resolve) => (transferEnded = resolve));
    const transfer: ImageTransfer = new ImageTransfer({
      host: this.#host,
      channel: this.channel,
      request,
      image,
      window,
      span,
      ...(fallback !== undefined ? { fallback } : {}),
      record: this.record,
      faults: this.#faults,
      session: this,
      // An AP that asks again has given up the transfer it had (RFC 5415 §9.1: one per session): end it first.
      announced: () => {
        this.#transfer?.abort(new Error("superseded by a new Image Data Request from the AP"));
        this.#transfer = transfer;
        this.#transferDone = done;
      },
      ended: (error) => {
        if (this.#transfer === transfer) this.#transfer = undefined;
        transferEnded();
        this.#input({ kind: "transfer-ended", predownload: transfer.predownload !== undefined, error: error?.message });
      },
    });
    void transfer.start();
  }

  setDownload(download: DownloadRecord): void {
    this.record.download = download;
    this.#host.events.emit("download", { ...this.record, download: { ...download } });
  }
}

export function resultOf(response: Message): number {
  return findElement(response.elements, "ResultCode")?.resultCode ?? ResultCode.Success;
}
