// Real-time backbone client. Usage:
//   const client = new BackboneClient({ urls: ["ws://127.0.0.1:8690/ws"], token: "<jwt>" });
//   client.on("workflow.started", (event) => ...);      // or onEvent / onResync / onState callbacks
//   client.subscribe("workflow:wf1"); await client.request("get_workflow_status", { workflow_id: "wf1" });
//   await client.sendToUser("alice", "note", { text: "hi" });  await client.presence("collab:s1", { limit: 50 });
// Events reach onEvent and the handlers of their name: room events, and direct messages (room null, toUser or
// toConnection set). Failed requests reject with an Error whose `code` is the server's error_code.
(function (root) {
  "use strict";
  class BackboneClient {
    constructor(options) {
      this.urls = options.urls;
      this.token = options.token || null;           // sent as ?token= (browsers cannot set headers)
      this.requestTimeout = options.requestTimeout || 10000;
      this.initialDelay = options.initialDelay || 200;
      this.maxDelay = options.maxDelay || 10000;
      this.onEvent = options.onEvent || (() => {});
      this.onResync = options.onResync || (() => {});
      this.onState = options.onState || (() => {});
      this.rooms = new Map();                         // room -> {seq, epoch} | null
      this.connectionId = null;                       // this connection's, from its welcome (null while disconnected)
      this.userId = null;
      this.handlers = new Map();
      this.pending = new Map();
      this.nextId = 0;
      this.attempt = 0;
      this.failures = 0;
      this.stopped = false;
      this.connect();
    }
    on(event, handler) {
      if (!this.handlers.has(event)) this.handlers.set(event, []);
      this.handlers.get(event).push(handler);
    }
    subscribe(room) {
      if (!this.rooms.has(room)) this.rooms.set(room, null);
      if (this.open) return this.sendSubscribe(room, null);
      return Promise.resolve();
    }
    unsubscribe(room) {
      this.rooms.delete(room);
      return this.open ? this.send({ type: "unsubscribe", data: { channel: room } }) : Promise.resolve();
    }
    request(event, data) { return this.send({ type: "request", event, data: data || {} }); }
    publish(room, event, data) { return this.request("publish", { room, event, data: data || {} }); }
    // Direct messages: resolve with the ack's data ({status, to_user | to_connection, connections}).
    sendToUser(userId, event, data) { return this.request("publish", { to_user: userId, event, data: data || {} }); }
    sendToConnection(connectionId, event, data) {
      return this.request("publish", { to_connection: connectionId, event, data: data || {} });
    }
    // Who is in a room whose channel reports presence: {room, mode, count, members?, truncated?}.
    presence(room, options) {
      const data = { room };
      if (options && options.limit !== undefined) data.limit = options.limit;
      return this.request("presence", data);
    }
    close() {
      this.stopped = true;
      if (this.ws) this.ws.close(1000);
      this.onState({ state: "stopped", reason: "closed by the client" });
    }
    connect() {
      if (this.stopped) return;
      let url = this.urls[this.attempt % this.urls.length];
      this.attempt += 1;
      if (this.token) url += (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(this.token);
      this.onState({ state: "connecting", attempt: this.attempt });
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.onopen = () => {
        this.open = true;
        this.failures = 0;
        this.onState({ state: "connected", url: this.urls[(this.attempt - 1) % this.urls.length] });
        for (const [room, position] of this.rooms) this.sendSubscribe(room, position).catch(() => {});
      };
      ws.onmessage = (message) => this.received(String(message.data));
      ws.onclose = (close) => {
        this.open = false;
        this.connectionId = this.userId = null;
        for (const [, waiter] of this.pending) waiter.reject(failure("CONNECTION_LOST"));
        this.pending.clear();
        if (this.stopped) return;
        if (close.code === 1008 || close.code === 4003) {
          this.stopped = true;
          return this.onState({ state: "stopped", reason: "closed " + close.code + " " + close.reason });
        }
        this.failures += 1;
        const ceiling = Math.min(this.maxDelay, this.initialDelay * 2 ** Math.min(this.failures, 20));
        let wait = Math.random() * ceiling;                  // full jitter
        if ([1001, 1012, 1013].includes(close.code)) wait = Math.max(wait, 500 + Math.random() * 1000);
        this.onState({ state: "waiting", ms: wait, code: close.code });
        setTimeout(() => this.connect(), wait);
      };
    }
    sendSubscribe(room, since) {
      const data = { channel: room };
      if (since) data.since = since;
      return this.send({ type: "request", event: "subscribe", data }).then((reply) => {
        if (reply.recovered === false) this.onResync(room);
        if ((!since || reply.recovered === false) && reply.seq !== undefined && this.rooms.has(room)) {
          this.rooms.set(room, { seq: reply.seq, epoch: reply.epoch });
        }
        return reply;
      });
    }
    send(message) {
      if (!this.open) return Promise.reject(failure("NOT_CONNECTED"));
      const id = "js" + (++this.nextId);
      message.id = id;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { this.pending.delete(id); reject(failure("TIMEOUT")); }, this.requestTimeout);
        this.pending.set(id, {
          resolve: (value) => { clearTimeout(timer); resolve(value); },
          reject: (error) => { clearTimeout(timer); reject(error); },
        });
        this.ws.send(JSON.stringify(message));
      });
    }
    received(text) {
      let message;
      try { message = JSON.parse(text); } catch (e) { return; }
      const waiter = message.correlation_id && this.pending.get(message.correlation_id);
      if (waiter) {
        this.pending.delete(message.correlation_id);
        if (message.type === "error") waiter.reject(failure(message.error_code, message.error_message));
        else waiter.resolve(message.data || {});
        return;
      }
      if (message.type !== "event") return;
      const event = { room: message.room || null, event: message.event, data: message.data, seq: message.seq,
        epoch: message.epoch, publisher: message.publisher, fromConnection: message.from_connection };
      if (event.room) {
        const last = this.rooms.get(event.room);
        if (event.seq !== undefined && last && last.epoch === event.epoch && event.seq <= last.seq) return;
        if (event.seq !== undefined && this.rooms.has(event.room)) {
          this.rooms.set(event.room, { seq: event.seq, epoch: event.epoch });
        }
      } else if (message.to_user != null || message.to_connection != null) {   // a direct message: no position
        event.toUser = message.to_user;
        event.toConnection = message.to_connection;
      } else {                                                                  // the welcome
        if (this.connectionId === null && message.data && message.data.connection_id) {
          this.connectionId = message.data.connection_id;
          this.userId = message.data.user_id || null;
        }
        return;
      }
      this.onEvent(event);
      for (const handler of this.handlers.get(message.event) || []) handler(event);
    }
  }
  function failure(code, text) {
    return Object.assign(new Error(text === undefined ? code : code + ": " + text), { code });
  }
  if (typeof module !== "undefined" && module.exports) module.exports = { BackboneClient };
  else root.BackboneClient = BackboneClient;
})(typeof window !== "undefined" ? window : globalThis);
