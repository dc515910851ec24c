// Interoperability scenarios with MQTT.js 5 (the `mqtt` package on npm), over TCP and
// WebSocket.
//
// Runs every scenario against the broker at --host/--port (and --ws-url for the WebSocket
// ones), in MQTT 3.1.1 and 5.0 where the feature exists, and prints one line per scenario:
// `ok NAME` or `FAIL NAME: why`. Exits 1 if any failed. See README.md beside this file.
//
// Every scenario has its own client identifiers and topics (a random run id, the scenario's
// name), so runs and scenarios never see each other's messages, and a deadline of --timeout
// seconds: every wait is on an event, bounded by what is left of that deadline. Where the
// absence of a message matters, a SUBSCRIBE round trip on the receiving connection is the
// barrier: a broker writes to one connection in order, so whatever it had queued for that
// client before the SUBACK arrives before it.

import { randomBytes } from 'node:crypto'
import { isDeepStrictEqual, inspect, parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import mqtt from 'mqtt'

const V311 = 4
const V5 = 5
const VERSION_NAMES = { [V311]: 'v311', [V5]: 'v5' }

/** A scenario saw something other than what it expected. */
class ScenarioError extends Error {}

/** Fails the scenario with `message` unless `condition` holds. */
function expect (condition, message) {
  if (!condition) throw new ScenarioError(message)
}

/** Shows a value in a failure message (Buffers as their bytes). */
function show (value) {
  return inspect(value, { depth: 5, breakLength: Infinity })
}

/** Fails the scenario unless `actual` deeply equals `wanted`, naming both. */
function expectEq (actual, wanted, what) {
  if (!isDeepStrictEqual(actual, wanted)) {
    throw new ScenarioError(`${what}: got ${show(actual)}, wanted ${show(wanted)}`)
  }
}

// Numbers client identifiers and barrier topics, unique within a run.
let serial = 0
function next () {
  serial += 1
  return serial
}

/** One scenario's run: its version, deadline, names, and the peers it must stop. */
class Context {
  constructor (options, runId, name, version) {
    this.options = options
    this.runId = runId
    this.name = name
    this.version = version
    this.deadline = Date.now() + options.timeout * 1000
    this.peers = []
    this.waiters = []
    this.notes = []
    this.prefix = `interop/js/${runId}/${name}`
  }

  /** Whether `--allow` accepts this known deviation from the spec (see DEVIATIONS). */
  allowed (deviation) {
    return this.options.allow.includes(deviation)
  }

  /** Milliseconds left before the deadline (never negative). */
  remaining () {
    return Math.max(0, this.deadline - Date.now())
  }

  /** A topic of this scenario alone. */
  topic (suffix) {
    return `${this.prefix}/${suffix}`
  }

  /** A fresh client identifier: at most 23 letters and digits, which every 3.1.1 server
   * must accept [MQTT-3.1.3-5]. */
  clientId () {
    return `js${this.runId}${String(next()).padStart(4, '0')}`
  }

  /** A new client of this scenario (not yet connected), stopped when it ends. */
  peer (options = {}) {
    const peer = new Peer(this, options)
    this.peers.push(peer)
    return peer
  }

  /** Something worth printing beside `ok` (how the broker chose to behave). */
  note (text) {
    this.notes.push(text)
  }

  /** Wakes whoever waits in `until`. */
  signal () {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  /** Resolves once `ready()` holds, re-checked on every message any peer receives; fails
   * at the deadline. */
  async until (ready, what) {
    while (!ready()) {
      const left = this.remaining()
      if (left === 0) throw new ScenarioError(`timed out waiting for ${what}`)
      let timer
      await new Promise((resolve) => {
        this.waiters.push(resolve)
        timer = setTimeout(resolve, left)
      })
      clearTimeout(timer)
    }
  }

  /** `promise`, or a failure naming `what` at the deadline. */
  async within (promise, what) {
    let timer
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(
        () => reject(new ScenarioError(`timed out waiting for ${what}`)),
        this.remaining()
      )
    })
    try {
      return await Promise.race([promise, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Ends every peer's connection. */
  close () {
    for (const peer of this.peers) peer.stop()
  }
}

/** An MQTT.js client whose messages are collected to be taken in order. Reconnection is
 * off, so a lost connection stays lost; `abort()` closes the socket without DISCONNECT. */
class Peer {
  constructor (ctx, { clientId, clean = true, sessionExpiry, will, topicAliasMaximum, url } = {}) {
    this.ctx = ctx
    this.version = ctx.version
    this.clientId = clientId ?? ctx.clientId()
    this.clean = clean
    this.sessionExpiry = sessionExpiry
    this.will = will
    this.topicAliasMaximum = topicAliasMaximum
    this.url = url
    this.client = null
    this.messages = []
  }

  /** Connects, waits for CONNACK and returns it (`sessionPresent`, `properties`). */
  async connect ({ clean } = {}) {
    const properties = {}
    if (this.sessionExpiry !== undefined) properties.sessionExpiryInterval = this.sessionExpiry
    if (this.topicAliasMaximum !== undefined) properties.topicAliasMaximum = this.topicAliasMaximum
    const options = {
      clientId: this.clientId,
      protocolVersion: this.version,
      clean: clean ?? this.clean,
      keepalive: 30,
      reconnectPeriod: 0,
      connectTimeout: this.ctx.remaining(),
      resubscribe: false,
      properties: this.version === V5 ? properties : undefined,
      will: this.will
    }
    const client = this.url
      ? mqtt.connect(this.url, options)
      : mqtt.connect({ ...options, host: this.ctx.options.host, port: this.ctx.options.port, protocol: 'mqtt' })
    this.client = client
    client.on('message', (topic, payload, packet) => {
      const props = { ...(packet.properties ?? {}) }
      // MQTT.js builds user properties on a null prototype; a plain copy compares equal to
      // the plain object the scenarios expect.
      if (props.userProperties) props.userProperties = { ...props.userProperties }
      this.messages.push({
        topic,
        payload: Buffer.from(payload),
        qos: packet.qos,
        retain: packet.retain,
        dup: packet.dup,
        props
      })
      this.ctx.signal()
    })
    // Errors after the connect are seen through the failed operations; keep them from
    // becoming unhandled `error` events.
    client.on('error', () => {})
    const connack = await this.ctx.within(
      new Promise((resolve, reject) => {
        client.once('connect', resolve)
        client.once('error', reject)
        client.once('close', () => reject(new ScenarioError(`${this.clientId}: closed before CONNACK`)))
      }),
      `${this.clientId}: CONNACK`
    )
    return { sessionPresent: connack.sessionPresent, properties: connack.properties ?? {} }
  }

  /** Subscribes to one filter and returns the QoS the SUBACK granted (or its code). */
  async subscribe (filter, qos, options = {}) {
    const granted = await this.ctx.within(
      this.client.subscribeAsync(filter, { qos, ...options }),
      `SUBACK for ${filter}`
    )
    expectEq(granted.length, 1, `SUBACK codes for ${filter}`)
    return granted[0].qos
  }

  /** Subscribes and asserts the broker granted exactly `qos`. */
  async subscribeGranted (filter, qos, options = {}) {
    expectEq(await this.subscribe(filter, qos, options), qos, `granted QoS for ${filter}`)
  }

  /** A SUBSCRIBE round trip: afterwards, every message the broker had queued for this
   * client before it read the SUBSCRIBE has been received. */
  async barrier () {
    expectEq(await this.subscribe(this.ctx.topic(`barrier/${next()}`), 0), 0, 'barrier granted')
  }

  /** Publishes and waits until the flow completes (PUBACK/PUBCOMP, or written at QoS 0). */
  async publish (topic, payload, qos, { retain = false, properties } = {}) {
    const options = { qos, retain }
    if (properties) options.properties = properties
    await this.ctx.within(
      this.client.publishAsync(topic, payload, options),
      `acknowledgement of ${show(payload)}`
    )
  }

  /** The next message received, waiting for it until the deadline. */
  async nextMessage (what = 'a message') {
    await this.ctx.until(() => this.messages.length > 0, `${this.clientId}: ${what}`)
    return this.messages.shift()
  }

  /** Takes every message received so far. */
  messagesNow () {
    return this.messages.splice(0)
  }

  /** Sends DISCONNECT (with `properties`, 5.0) and waits for the connection to close. */
  async disconnect (properties) {
    const client = this.client
    await this.ctx.within(
      client.endAsync(false, properties ? { properties } : undefined),
      `${this.clientId}: the end of the connection`
    )
  }

  /** Closes the socket without DISCONNECT, as a crashed client or a broken network would,
   * and waits for the close. */
  async abort () {
    const client = this.client
    const closed = new Promise((resolve) => client.once('close', resolve))
    client.stream.destroy()
    await this.ctx.within(closed, `${this.clientId}: the end of the aborted connection`)
    client.end(true)
  }

  /** Ends the connection whatever its state (cleanup). */
  stop () {
    if (this.client && !this.client.disconnected) this.client.end(true)
  }
}

// ---------------------------------------------------------------------------------------------
// Checks on received messages

/** Asserts every part of one received message; `props` (default none) must be exact. */
function expectMessage (message, topic, payload, qos, { retain = false, props = {}, dup } = {}) {
  const want = Buffer.from(payload)
  expectEq(message.topic, topic, 'topic')
  expectEq(message.payload, want, `payload on ${topic}`)
  expectEq(message.qos, qos, `QoS of ${show(payload)}`)
  expectEq(message.retain, retain, `retain flag of ${show(payload)}`)
  if (dup !== undefined) expectEq(message.dup, dup, `dup flag of ${show(payload)}`)
  expectEq(message.props, props, `properties of ${show(payload)}`)
}

/** Barrier on `peer`, then asserts nothing else arrived. */
async function expectNothingMore (peer, what) {
  await peer.barrier()
  const extra = peer.messagesNow()
  expect(extra.length === 0, `${what}: unexpected messages ${show(extra)}`)
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** QoS `qos` from one client to another: granted QoS, then each message exactly once. */
function qosFlow (qos) {
  return async (ctx) => {
    const sub = ctx.peer()
    const { sessionPresent } = await sub.connect()
    expectEq(sessionPresent, false, 'session present on a clean connect')
    const topic = ctx.topic('data')
    await sub.subscribeGranted(topic, qos)
    const pub = ctx.peer()
    await pub.connect()
    const payloads = [0, 1, 2].map((i) => `q${qos}-${i}`)
    for (const payload of payloads) await pub.publish(topic, payload, qos)
    for (const payload of payloads) {
      expectMessage(await sub.nextMessage(), topic, payload, qos, { dup: false })
    }
    await expectNothingMore(sub, 'after the messages')
    await pub.disconnect()
    await sub.disconnect()
  }
}

/** A retained message reaches a later subscriber with RETAIN set, and a live subscriber
 * without it; an empty retained message clears it. */
async function retained (ctx) {
  const topic = ctx.topic('state')
  const live = ctx.peer()
  await live.connect()
  await live.subscribeGranted(topic, 1)
  const pub = ctx.peer()
  await pub.connect()
  await pub.publish(topic, 'on', 1, { retain: true })
  expectMessage(await live.nextMessage(), topic, 'on', 1)

  const later = ctx.peer()
  await later.connect()
  await later.subscribeGranted(topic, 1)
  expectMessage(await later.nextMessage('the retained message'), topic, 'on', 1, { retain: true })
  await expectNothingMore(later, 'after the retained message')

  await pub.publish(topic, '', 1, { retain: true })
  expectMessage(await live.nextMessage('the clearing message'), topic, '', 1)
  const cleared = ctx.peer()
  await cleared.connect()
  await cleared.subscribeGranted(topic, 1)
  await expectNothingMore(cleared, 'after the retained message was cleared')
  for (const peer of [pub, live, later, cleared]) await peer.disconnect()
}

/** A normal DISCONNECT discards the will; a socket closed without DISCONNECT sends it. */
async function will (ctx) {
  const topic = ctx.topic('will')
  const watcher = ctx.peer()
  await watcher.connect()
  await watcher.subscribeGranted(topic, 1)

  const properties = ctx.version === V5
    ? { contentType: 'text/plain', userProperties: { reason: 'gone' } }
    : undefined
  const makeWill = (payload) => ({ topic, payload: Buffer.from(payload), qos: 1, retain: false, properties })
  const polite = ctx.peer({ will: makeWill('polite') })
  await polite.connect()
  await polite.disconnect()

  const rude = ctx.peer({ will: makeWill('rude') })
  await rude.connect()
  await rude.abort()

  expectMessage(await watcher.nextMessage('the will'), topic, 'rude', 1, { props: properties ?? {} })
  await expectNothingMore(watcher, "after the will (the polite client's will must not come)")
  await watcher.disconnect()
}

/** QoS 1 messages published while a persistent subscriber is away reach it when it
 * reconnects, with session present set. */
async function persistentSession (ctx) {
  const topic = ctx.topic('queued')
  const clientId = ctx.clientId()
  const sessionExpiry = ctx.version === V5 ? 300 : undefined
  // MQTT.js sends Clean Start from `clean`: true for the first connect (a fresh session that
  // outlives the connection, 5.0), false to resume; 3.1.1 needs Clean Session 0 from the start.
  const away = ctx.peer({ clientId, clean: false, sessionExpiry })
  const first = await away.connect({ clean: ctx.version === V5 })
  expectEq(first.sessionPresent, false, 'session present on the first connect')
  await away.subscribeGranted(topic, 1)
  await away.disconnect()

  const pub = ctx.peer()
  await pub.connect()
  const payloads = [0, 1, 2].map((i) => `while-away-${i}`)
  for (const payload of payloads) await pub.publish(topic, payload, 1)

  const back = ctx.peer({ clientId, clean: false, sessionExpiry })
  const resumed = await back.connect()
  expectEq(resumed.sessionPresent, true, 'session present on reconnect')
  for (const payload of payloads) {
    expectMessage(await back.nextMessage(`queued ${payload}`), topic, payload, 1)
  }
  await expectNothingMore(back, 'after the queued messages')
  await back.disconnect(ctx.version === V5 ? { sessionExpiryInterval: 0 } : undefined)
  await pub.disconnect()

  // The session is gone: a clean connect finds none (and leaves none behind).
  const gone = ctx.peer({ clientId, clean: true })
  const fresh = await gone.connect()
  expectEq(fresh.sessionPresent, false, 'session present after the session was ended')
  await gone.disconnect()
}

/** Two members of `$share/g/topic`: each message reaches exactly one of them, and (5.0)
 * neither gets the retained message that was there before they subscribed. */
async function shared (ctx) {
  const topic = ctx.topic('work')
  const pub = ctx.peer()
  await pub.connect()
  await pub.publish(topic, 'kept', 1, { retain: true })
  const members = [ctx.peer(), ctx.peer()]
  for (const member of members) {
    await member.connect()
    await member.subscribeGranted(`$share/g/${topic}`, 1)
  }
  let retainedSent = 0
  for (const member of members) {
    await member.barrier()
    retainedSent += member.messagesNow().length
  }
  if (retainedSent) {
    // 5.0 3.3.1.3 sends retained messages when a new *non-shared* subscription is
    // made; a shared one gets none (text of the spec, not a numbered rule).
    // (3.1.1 has no shared subscriptions, so no rule either way.)
    const text = `retained message sent to ${retainedSent} new shared subscriptions`
    expect(ctx.version === V311 || ctx.allowed('retained-to-shared'), text)
    ctx.note(text)
  }

  const count = 10
  const payloads = Array.from({ length: count }, (_, i) => `job-${i}`)
  for (const payload of payloads) await pub.publish(topic, payload, 1)
  for (const member of members) await member.barrier()
  const got = members.map((member) => member.messagesNow())
  if (ctx.version === V311 && got[0].length === 0 && got[1].length === 0) {
    // 3.1.1 has no shared subscriptions: a broker that reads `$share/g/...` as a plain
    // filter delivers nothing here, which is as correct as sharing.
    ctx.note('the broker reads $share/ as a plain filter in 3.1.1')
  } else {
    const total = () => got[0].length + got[1].length + members[0].messages.length + members[1].messages.length
    await ctx.until(() => total() >= count, `${count} messages across the group`)
    for (const [index, member] of members.entries()) {
      await member.barrier()
      got[index].push(...member.messagesNow())
    }
    const delivered = got.flat().map((m) => m.payload.toString()).sort()
    expectEq(delivered, [...payloads].sort(), 'messages delivered across the group')
    for (const message of got.flat()) expectMessage(message, topic, message.payload, 1)
    ctx.note(`split ${got[0].length}/${got[1].length}`)
  }
  for (const member of members) await member.disconnect()
  await pub.publish(topic, '', 1, { retain: true })
  await pub.disconnect()
}

/** User properties, response topic, correlation data, content type and payload format
 * indicator pass through unchanged. */
async function properties (ctx) {
  const topic = ctx.topic('request')
  const sub = ctx.peer()
  await sub.connect()
  await sub.subscribeGranted(topic, 2)
  const pub = ctx.peer()
  await pub.connect()
  const want = {
    payloadFormatIndicator: true,
    contentType: 'application/json; charset=utf-8',
    responseTopic: ctx.topic('reply'),
    correlationData: Buffer.from([0, 1, 0x7f, 0x80, 0xfe, 0xff]),
    // MQTT.js gathers repeated keys into an array, in the order they came.
    userProperties: { k: ['1', '2'], other: 'x', ключ: '值' }
  }
  for (const qos of [1, 2]) {
    const payload = JSON.stringify({ qos, text: 'héllo' })
    await pub.publish(topic, payload, qos, { properties: want })
    expectMessage(await sub.nextMessage(), topic, payload, qos, { props: want })
  }
  await expectNothingMore(sub, 'after the messages with properties')
  await pub.disconnect()
  await sub.disconnect()
}

/** A queued message whose expiry passed is dropped; one still alive arrives with the time it
 * waited taken off its Message Expiry Interval. */
async function messageExpiry (ctx) {
  const topic = ctx.topic('expiring')
  const clientId = ctx.clientId()
  const away = ctx.peer({ clientId, clean: false, sessionExpiry: 300 })
  await away.connect({ clean: true })
  await away.subscribeGranted(topic, 1)
  await away.disconnect()

  const pub = ctx.peer()
  await pub.connect()
  await pub.publish(topic, 'short', 1, { properties: { messageExpiryInterval: 1 } })
  await pub.publish(topic, 'long', 1, { properties: { messageExpiryInterval: 300 } })
  // Waits for time to pass (not for a state): the short message's second must be over,
  // whole seconds included, before the subscriber comes back.
  await sleep(2500)

  const back = ctx.peer({ clientId, clean: false, sessionExpiry: 0 })
  const { sessionPresent } = await back.connect()
  expectEq(sessionPresent, true, 'session present on reconnect')
  const message = await back.nextMessage('the long-lived message')
  expectEq(message.payload.toString(), 'long', 'the first message after the expired one')
  const left = message.props.messageExpiryInterval
  // 2.5 s waited: 297 or 298 s are left, whichever way a broker rounds.
  expect(left > 0 && left <= 299, `remaining expiry ${left}, wanted 1..=299`)
  expectMessage(message, topic, 'long', 1, { props: { messageExpiryInterval: left } })
  await expectNothingMore(back, 'after the long-lived message (the expired one must not come)')
  await back.disconnect()
  await pub.disconnect()
}

/** The broker resolves the topic aliases a client publishes with (set, used alone, set again
 * to another topic). */
async function aliasFromClient (ctx) {
  const sub = ctx.peer()
  await sub.connect()
  await sub.subscribeGranted(ctx.topic('#'), 1)
  const pub = ctx.peer()
  const { properties: connack } = await pub.connect()
  const maximum = connack.topicAliasMaximum ?? 0
  expect(maximum >= 1, `the broker's Topic Alias Maximum is ${maximum}: nothing to test`)
  const first = ctx.topic('a/first')
  const second = ctx.topic('a/second')
  const steps = [
    [first, 'set', first],
    ['', 'alias only', first],
    [second, 'remap', second],
    ['', 'remapped alias only', second]
  ]
  for (const [sent, payload] of steps) {
    await pub.publish(sent, payload, 1, { properties: { topicAlias: 1 } })
  }
  for (const [, payload, topic] of steps) expectMessage(await sub.nextMessage(), topic, payload, 1)
  await expectNothingMore(sub, 'after the aliased messages')
  await pub.disconnect()
  await sub.disconnect()
}

/** A subscriber that allows topic aliases gets every message on its right topic, whether the
 * broker uses aliases or not (MQTT.js resolves them and refuses a bad one). */
async function aliasToClient (ctx) {
  const sub = ctx.peer({ topicAliasMaximum: 2 })
  await sub.connect()
  await sub.subscribeGranted(ctx.topic('#'), 1)
  const pub = ctx.peer()
  await pub.connect()
  const topics = Array.from({ length: 9 }, (_, i) => ctx.topic(`t/${i % 3}`))
  for (const [index, topic] of topics.entries()) await pub.publish(topic, `m${index}`, 1)
  let used = 0
  for (const [index, topic] of topics.entries()) {
    const message = await sub.nextMessage()
    const alias = message.props.topicAlias
    if (alias !== undefined) {
      used += 1
      expect(alias >= 1 && alias <= 2, `topic alias ${alias} beyond our maximum 2`)
      delete message.props.topicAlias
    }
    expectMessage(message, topic, `m${index}`, 1)
  }
  await expectNothingMore(sub, 'after the messages')
  ctx.note(`the broker used aliases on ${used} of ${topics.length} messages`)
  await pub.disconnect()
  await sub.disconnect()
}

/** Over WebSocket: connect, subscribe, publish at QoS 1 and receive. */
async function websocket (ctx) {
  const url = ctx.options['ws-url']
  expect(url, 'no --ws-url given')
  const topic = ctx.topic('ws')
  const sub = ctx.peer({ url })
  const { sessionPresent } = await sub.connect()
  expectEq(sessionPresent, false, 'session present on a clean connect')
  await sub.subscribeGranted(topic, 1)
  const pub = ctx.peer({ url })
  await pub.connect()
  await pub.publish(topic, 'over websocket', 1)
  expectMessage(await sub.nextMessage(), topic, 'over websocket', 1, { dup: false })
  await expectNothingMore(sub, 'after the message')
  await pub.disconnect()
  await sub.disconnect()
}

// ---------------------------------------------------------------------------------------------
// Runner

// Known ways in which a broker may depart from the spec, each accepted only when named with
// `--allow` (the mosquitto runner allows those of mosquitto 2.0.11; see README.md).
const DEVIATIONS = {
  'retained-to-shared': '5.0: retained messages sent when a shared subscription is made'
}

const SCENARIOS = [
  ['qos0', qosFlow(0), [V311, V5]],
  ['qos1', qosFlow(1), [V311, V5]],
  ['qos2', qosFlow(2), [V311, V5]],
  ['retained', retained, [V311, V5]],
  ['will', will, [V311, V5]],
  ['session', persistentSession, [V311, V5]],
  ['shared', shared, [V311, V5]],
  ['properties', properties, [V5]],
  ['expiry', messageExpiry, [V5]],
  ['alias-from-client', aliasFromClient, [V5]],
  ['alias-to-client', aliasToClient, [V5]],
  ['websocket', websocket, [V311, V5]]
]

async function main () {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      'ws-url': { type: 'string' },
      timeout: { type: 'string', default: '15' },
      only: { type: 'string', default: '' },
      allow: { type: 'string', multiple: true, default: [] }
    }
  })
  const unknown = values.allow.filter((name) => !(name in DEVIATIONS))
  if (unknown.length) {
    console.error(`unknown --allow ${unknown.join(', ')}; known: ${Object.keys(DEVIATIONS).join(', ')}`)
    return 2
  }
  if (!values.port) {
    console.error('usage: mqttjs_scenarios.mjs --host HOST --port PORT [--ws-url URL] [--timeout S] [--only TEXT] [--allow DEVIATION]...')
    return 2
  }
  const options = { ...values, port: Number(values.port), timeout: Number(values.timeout) }
  const runId = randomBytes(4).toString('hex')
  let ran = 0
  let failed = 0
  for (const [base, scenario, versions] of SCENARIOS) {
    for (const version of versions) {
      const name = `mqttjs/${VERSION_NAMES[version]}/${base}`
      if (!name.includes(options.only)) continue
      ran += 1
      const ctx = new Context(options, runId, name, version)
      try {
        await scenario(ctx)
        console.log(`ok ${name}${ctx.notes.length ? ` (${ctx.notes.join('; ')})` : ''}`)
      } catch (error) {
        failed += 1
        const why = error instanceof ScenarioError ? error.message : (error?.stack ?? String(error))
        console.log(`FAIL ${name}: ${why}`)
      } finally {
        ctx.close()
      }
    }
  }
  console.log(`mqttjs: ${ran - failed} passed, ${failed} failed`)
  // Nothing run is a failure, unless --only chose nothing here on purpose.
  return failed || (!ran && !options.only) ? 1 : 0
}

process.exitCode = await main()
