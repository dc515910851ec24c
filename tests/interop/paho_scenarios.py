"""Interoperability scenarios with the Eclipse Paho Python client (paho-mqtt 2.x).

Runs every scenario against the broker at --host/--port, in MQTT 3.1.1 and 5.0 where the
feature exists, and prints one line per scenario: `ok NAME` or `FAIL NAME: why`. Exits 1 if
any failed. See README.md beside this file.

Every scenario has its own client identifiers and topics (a random run id, the scenario's
name), so runs and scenarios never see each other's messages, and a deadline of --timeout
seconds: every wait is on a callback, bounded by what is left of that deadline. Where the
absence of a message matters, a SUBSCRIBE round trip on the receiving connection is the
barrier: a broker writes to one connection in order, so whatever it had queued for that
client before the SUBACK arrives before it.
"""

import argparse
import itertools
import secrets
import socket
import sys
import threading
import time
import traceback

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

V311 = mqtt.MQTTv311
V5 = mqtt.MQTTv5
VERSION_NAMES = {V311: "v311", V5: "v5"}


class ScenarioError(Exception):
    """A scenario saw something other than what it expected."""


def expect(condition, message):
    """Fails the scenario with `message` unless `condition` holds."""
    if not condition:
        raise ScenarioError(message)


def expect_eq(actual, wanted, what):
    """Fails the scenario unless `actual == wanted`, naming both."""
    if actual != wanted:
        raise ScenarioError(f"{what}: got {actual!r}, wanted {wanted!r}")


def props_dict(properties):
    """The properties present in a paho `Properties` (or None) as a plain dict."""
    if properties is None:
        return {}
    out = {}
    for name in properties.names:
        key = name.replace(" ", "")
        if hasattr(properties, key):
            out[key] = getattr(properties, key)
    return out


def publish_props(**values):
    """A PUBLISH `Properties` with the given attributes."""
    props = Properties(PacketTypes.PUBLISH)
    for key, value in values.items():
        setattr(props, key, value)
    return props


class Received:
    """One message as it arrived: topic (aliases resolved), payload, QoS, flags, properties."""

    def __init__(self, topic, payload, qos, retain, dup, props):
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.dup = dup
        self.props = props

    def __repr__(self):
        return (
            f"<{self.topic!r} {self.payload!r} q{self.qos} r{int(self.retain)} "
            f"d{int(self.dup)} {self.props!r}>"
        )


# Numbers client identifiers and barrier topics, unique within a run.
SERIAL = itertools.count(1)


class Context:
    """One scenario's run: its version, deadline, names, and the peers it must stop."""

    def __init__(self, host, port, run_id, name, version, timeout, allow=()):
        self.host = host
        self.port = port
        self.allow = set(allow)
        self.run_id = run_id
        self.name = name
        self.version = version
        self.deadline = time.monotonic() + timeout
        self.peers = []
        self.prefix = f"interop/py/{run_id}/{name}"

    def allowed(self, deviation):
        """Whether `--allow` accepts this known deviation from the spec (see DEVIATIONS)."""
        return deviation in self.allow

    def remaining(self):
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.deadline - time.monotonic())

    def topic(self, suffix):
        """A topic of this scenario alone."""
        return f"{self.prefix}/{suffix}"

    def client_id(self):
        """A fresh client identifier: at most 23 letters and digits, which every 3.1.1 server
        must accept [MQTT-3.1.3-5]."""
        return f"py{self.run_id}{next(SERIAL):04d}"

    def peer(self, **kwargs):
        """A new client of this scenario (not yet connected), stopped when it ends."""
        peer = Peer(self, **kwargs)
        self.peers.append(peer)
        return peer

    def close(self):
        """Stops every peer's thread and socket."""
        for peer in self.peers:
            peer.stop()


class Peer:
    """A paho client on its own network thread, its callbacks turned into events to wait on.

    Automatic reconnection is off, so a lost connection ends the thread; `abort()` closes the
    socket without DISCONNECT.
    """

    def __init__(
        self,
        ctx,
        client_id=None,
        clean=True,
        session_expiry=None,
        will=None,
        topic_alias_maximum=None,
        resolve_aliases=False,
    ):
        self.ctx = ctx
        self.version = ctx.version
        self.client_id = client_id or ctx.client_id()
        self.clean = clean
        self.session_expiry = session_expiry
        self.topic_alias_maximum = topic_alias_maximum
        self.resolve_aliases = resolve_aliases
        self.aliases = {}
        self.cond = threading.Condition()
        self.events = []
        self.messages = []
        self.connected = False
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=clean if self.version == V311 else None,
            protocol=self.version,
            reconnect_on_failure=False,
        )
        if will is not None:
            self.client.will_set(**will)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    # ---- callbacks (network thread) ----

    def _push(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def _on_connect(self, _client, _userdata, flags, reason_code, properties):
        self._push(("connack", flags.session_present, reason_code, props_dict(properties)))

    def _on_subscribe(self, _client, _userdata, mid, reason_codes, properties):
        self._push(("suback", mid, [rc.value for rc in reason_codes], props_dict(properties)))

    def _on_publish(self, _client, _userdata, mid, reason_code, properties):
        self._push(("published", mid, reason_code.value, props_dict(properties)))

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, properties):
        self._push(("disconnect", reason_code.value, props_dict(properties)))

    def _on_message(self, _client, _userdata, message):
        props = props_dict(message.properties)
        topic = message.topic
        problem = None
        if self.resolve_aliases and "TopicAlias" in props:
            alias = props["TopicAlias"]
            if not 1 <= alias <= (self.topic_alias_maximum or 0):
                problem = f"topic alias {alias} beyond our maximum {self.topic_alias_maximum}"
            elif topic:
                self.aliases[alias] = topic
            elif alias in self.aliases:
                topic = self.aliases[alias]
            else:
                problem = f"unknown topic alias {alias} with an empty topic"
        received = Received(
            topic, bytes(message.payload), message.qos, bool(message.retain),
            bool(message.dup), props,
        )
        with self.cond:
            self.messages.append(problem or received)
            self.cond.notify_all()

    # ---- waiting ----

    def _take(self, kind, match, what):
        """Removes and returns the first event of `kind` for which `match` holds."""
        with self.cond:
            while True:
                for index, event in enumerate(self.events):
                    if event[0] == kind and match(event):
                        return self.events.pop(index)
                left = self.ctx.remaining()
                if left == 0:
                    raise ScenarioError(f"{self.client_id}: timed out waiting for {what}")
                self.cond.wait(left)

    def next_message(self, what="a message"):
        """The next message received, waiting for it until the deadline."""
        with self.cond:
            while not self.messages:
                left = self.ctx.remaining()
                if left == 0:
                    raise ScenarioError(f"{self.client_id}: timed out waiting for {what}")
                self.cond.wait(left)
            message = self.messages.pop(0)
        if isinstance(message, str):
            raise ScenarioError(f"{self.client_id}: {message}")
        return message

    def messages_now(self):
        """Takes every message received so far."""
        with self.cond:
            taken, self.messages = self.messages, []
        for message in taken:
            if isinstance(message, str):
                raise ScenarioError(f"{self.client_id}: {message}")
        return taken

    # ---- commands ----

    def connect(self, clean_start=None, extra_connect=None):
        """Connects, waits for CONNACK, and returns (session present, CONNACK properties)."""
        props = None
        if self.version == V5:
            props = Properties(PacketTypes.CONNECT)
            if self.session_expiry is not None:
                props.SessionExpiryInterval = self.session_expiry
            if self.topic_alias_maximum is not None:
                props.TopicAliasMaximum = self.topic_alias_maximum
            for key, value in (extra_connect or {}).items():
                setattr(props, key, value)
            start = self.clean if clean_start is None else clean_start
            self.client.connect(
                self.ctx.host, self.ctx.port, keepalive=30, clean_start=start, properties=props
            )
        else:
            self.client.connect(self.ctx.host, self.ctx.port, keepalive=30)
        self.client.loop_start()
        _, present, code, connack_props = self._take("connack", lambda e: True, "CONNACK")
        expect(not code.is_failure, f"{self.client_id}: CONNACK refused: {code}")
        self.connected = True
        return present, connack_props

    def subscribe(self, topic_filter, qos, **options):
        """Subscribes to one filter and returns the SUBACK's code for it (granted QoS)."""
        if self.version == V5:
            result, mid = self.client.subscribe(
                topic_filter, options=SubscribeOptions(qos=qos, **options)
            )
        else:
            result, mid = self.client.subscribe(topic_filter, qos)
        expect_eq(result, mqtt.MQTT_ERR_SUCCESS, f"subscribe {topic_filter} queued")
        _, _, codes, _ = self._take("suback", lambda e: e[1] == mid, f"SUBACK for {topic_filter}")
        expect_eq(len(codes), 1, f"SUBACK codes for {topic_filter}")
        return codes[0]

    def subscribe_granted(self, topic_filter, qos, **options):
        """Subscribes and asserts the broker granted exactly `qos`."""
        granted = self.subscribe(topic_filter, qos, **options)
        expect_eq(granted, qos, f"granted QoS for {topic_filter}")

    def barrier(self):
        """A SUBSCRIBE round trip: afterwards, every message the broker had queued for this
        client before it read the SUBSCRIBE has been received."""
        granted = self.subscribe(self.ctx.topic(f"barrier/{next(SERIAL)}"), 0)
        expect_eq(granted, 0, "barrier subscription granted")

    def publish(self, topic, payload, qos, retain=False, properties=None):
        """Publishes and waits until the flow completes (PUBACK/PUBCOMP, or written at QoS 0);
        returns the acknowledgement's reason code (0 for 3.1.1 and QoS 0)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        expect_eq(info.rc, mqtt.MQTT_ERR_SUCCESS, f"publish to {topic!r} queued")
        _, _, code, _ = self._take(
            "published", lambda e: e[1] == info.mid, f"acknowledgement of {payload!r}"
        )
        expect(code < 0x80, f"publish of {payload!r} refused with reason code {code:#x}")
        return code

    def disconnect(self, properties=None):
        """Sends DISCONNECT and waits for the network thread to end."""
        self.client.disconnect(properties=properties)
        self._take("disconnect", lambda e: True, "the end of the connection")
        self.client.loop_stop()
        self.connected = False

    def abort(self):
        """Closes the socket without DISCONNECT, as a crashed client or a broken network
        would, and waits for the network thread to end."""
        sock = self.client.socket()
        expect(sock is not None, f"{self.client_id}: no socket to close")
        sock.shutdown(socket.SHUT_RDWR)
        self._take("disconnect", lambda e: True, "the end of the aborted connection")
        self.client.loop_stop()
        self.connected = False

    def stop(self):
        """Ends the connection and the thread, whatever state they are in (cleanup)."""
        try:
            if self.connected:
                self.client.disconnect()
        finally:
            self.client.loop_stop()
            self.connected = False


# ---------------------------------------------------------------------------------------------
# Checks on received messages


def expect_message(message, topic, payload, qos, retain=False, props=None, dup=None):
    """Asserts every part of one received message; `props` (default none) must be exact."""
    expect_eq(message.topic, topic, "topic")
    expect_eq(message.payload, payload, f"payload on {topic}")
    expect_eq(message.qos, qos, f"QoS of {payload!r}")
    expect_eq(message.retain, retain, f"retain flag of {payload!r}")
    if dup is not None:
        expect_eq(message.dup, dup, f"dup flag of {payload!r}")
    expect_eq(message.props, props or {}, f"properties of {payload!r}")


def expect_nothing_more(peer, what):
    """Barrier on `peer`, then asserts nothing else arrived."""
    peer.barrier()
    extra = peer.messages_now()
    expect(not extra, f"{what}: unexpected messages {extra!r}")


# ---------------------------------------------------------------------------------------------
# Scenarios


def qos_flow(qos):
    """QoS `qos` from one client to another: granted QoS, then each message exactly once."""

    def scenario(ctx):
        sub = ctx.peer()
        present, _ = sub.connect()
        expect_eq(present, False, "session present on a clean connect")
        topic = ctx.topic("data")
        sub.subscribe_granted(topic, qos)
        pub = ctx.peer()
        pub.connect()
        payloads = [f"q{qos}-{i}".encode() for i in range(3)]
        for payload in payloads:
            pub.publish(topic, payload, qos)
        for payload in payloads:
            expect_message(sub.next_message(), topic, payload, qos, dup=False)
        expect_nothing_more(sub, "after the messages")
        pub.disconnect()
        sub.disconnect()

    return scenario


def retained(ctx):
    """A retained message reaches a later subscriber with RETAIN set, and a live subscriber
    without it; an empty retained message clears it."""
    topic = ctx.topic("state")
    live = ctx.peer()
    live.connect()
    live.subscribe_granted(topic, 1)
    pub = ctx.peer()
    pub.connect()
    pub.publish(topic, b"on", 1, retain=True)
    expect_message(live.next_message(), topic, b"on", 1, retain=False)

    later = ctx.peer()
    later.connect()
    later.subscribe_granted(topic, 1)
    expect_message(later.next_message("the retained message"), topic, b"on", 1, retain=True)
    expect_nothing_more(later, "after the retained message")

    pub.publish(topic, b"", 1, retain=True)
    expect_message(live.next_message("the clearing message"), topic, b"", 1, retain=False)
    cleared = ctx.peer()
    cleared.connect()
    cleared.subscribe_granted(topic, 1)
    expect_nothing_more(cleared, "after the retained message was cleared")
    for peer in (pub, live, later, cleared):
        peer.disconnect()


def will(ctx):
    """A normal DISCONNECT discards the will; a socket closed without DISCONNECT sends it."""
    topic = ctx.topic("will")
    watcher = ctx.peer()
    watcher.connect()
    watcher.subscribe_granted(topic, 1)

    props = None
    if ctx.version == V5:
        props = Properties(PacketTypes.WILLMESSAGE)
        props.ContentType = "text/plain"
        props.UserProperty = [("reason", "gone")]
    polite = ctx.peer(will=dict(topic=topic, payload=b"polite", qos=1, properties=props))
    polite.connect()
    polite.disconnect()

    rude = ctx.peer(will=dict(topic=topic, payload=b"rude", qos=1, properties=props))
    rude.connect()
    rude.abort()

    want = {}
    if ctx.version == V5:
        want = {"ContentType": "text/plain", "UserProperty": [("reason", "gone")]}
    expect_message(watcher.next_message("the will"), topic, b"rude", 1, props=want)
    expect_nothing_more(watcher, "after the will (the polite client's will must not come)")
    watcher.disconnect()


def persistent_session(ctx):
    """QoS 1 messages published while a persistent subscriber is away reach it when it
    reconnects, with session present set."""
    topic = ctx.topic("queued")
    client_id = ctx.client_id()
    expiry = 300 if ctx.version == V5 else None
    away = ctx.peer(client_id=client_id, clean=False, session_expiry=expiry)
    present, _ = away.connect(clean_start=True)
    expect_eq(present, False, "session present on the first connect")
    away.subscribe_granted(topic, 1)
    away.disconnect()

    pub = ctx.peer()
    pub.connect()
    payloads = [f"while-away-{i}".encode() for i in range(3)]
    for payload in payloads:
        pub.publish(topic, payload, 1)

    back = ctx.peer(client_id=client_id, clean=False, session_expiry=expiry)
    present, _ = back.connect(clean_start=False)
    expect_eq(present, True, "session present on reconnect")
    for payload in payloads:
        expect_message(back.next_message(f"queued {payload!r}"), topic, payload, 1)
    expect_nothing_more(back, "after the queued messages")
    if ctx.version == V5:
        end = Properties(PacketTypes.DISCONNECT)
        end.SessionExpiryInterval = 0
        back.disconnect(properties=end)
    else:
        back.disconnect()
    pub.disconnect()

    # The session is gone: a clean connect finds none (and leaves none behind).
    gone = ctx.peer(client_id=client_id, clean=True)
    present, _ = gone.connect(clean_start=True)
    expect_eq(present, False, "session present after the session was ended")
    gone.disconnect()


def shared(ctx):
    """Two members of `$share/g/topic`: each message reaches exactly one of them, and (5.0)
    neither gets the retained message that was there before they subscribed."""
    topic = ctx.topic("work")
    pub = ctx.peer()
    pub.connect()
    pub.publish(topic, b"kept", 1, retain=True)
    members = [ctx.peer(), ctx.peer()]
    for member in members:
        member.connect()
        member.subscribe_granted(f"$share/g/{topic}", 1)
    retained_sent = 0
    for member in members:
        member.barrier()
        retained_sent += len(member.messages_now())
    if retained_sent:
        # 5.0 3.3.1.3 sends retained messages when a new *non-shared* subscription is
        # made; a shared one gets none (text of the spec, not a numbered rule).
        # (3.1.1 has no shared subscriptions, so no rule either way.)
        text = f"retained message sent to {retained_sent} new shared subscriptions"
        expect(ctx.version == V311 or ctx.allowed("retained-to-shared"), text)
        note(ctx, text)

    count = 10
    payloads = [f"job-{i}".encode() for i in range(count)]
    for payload in payloads:
        pub.publish(topic, payload, 1)
    for member in members:
        member.barrier()
    got = [member.messages_now() for member in members]
    if ctx.version == V311 and not got[0] and not got[1]:
        # 3.1.1 has no shared subscriptions: a broker that reads `$share/g/...` as a plain
        # filter delivers nothing here, which is as correct as sharing.
        note(ctx, "the broker reads $share/ as a plain filter in 3.1.1")
    else:
        while sum(len(g) for g in got) < count and ctx.remaining() > 0:
            for index, member in enumerate(members):
                with member.cond:
                    if not member.messages:
                        member.cond.wait(min(0.05, ctx.remaining()))
                got[index].extend(member.messages_now())
        for member, extra in zip(members, got):
            member.barrier()
            extra.extend(member.messages_now())
        delivered = sorted(m.payload for g in got for m in g)
        expect_eq(delivered, sorted(payloads), "messages delivered across the group")
        for group in got:
            for message in group:
                expect_message(message, topic, message.payload, 1)
        note(ctx, f"split {len(got[0])}/{len(got[1])}")
    for member in members:
        member.disconnect()
    pub.publish(topic, b"", 1, retain=True)
    pub.disconnect()


def properties(ctx):
    """User properties (order and repeats kept), response topic, correlation data, content
    type and payload format indicator pass through unchanged."""
    topic = ctx.topic("request")
    sub = ctx.peer()
    sub.connect()
    sub.subscribe_granted(topic, 2)
    pub = ctx.peer()
    pub.connect()
    want = {
        "PayloadFormatIndicator": 1,
        "ContentType": "application/json; charset=utf-8",
        "ResponseTopic": ctx.topic("reply"),
        "CorrelationData": bytes([0, 1, 0x7F, 0x80, 0xFE, 0xFF]),
        "UserProperty": [("k", "1"), ("other", "x"), ("k", "2"), ("ключ", "值")],
    }
    for qos in (1, 2):
        payload = f'{{"qos": {qos}, "text": "héllo"}}'.encode()
        pub.publish(topic, payload, qos, properties=publish_props(**want))
        expect_message(sub.next_message(), topic, payload, qos, props=want)
    expect_nothing_more(sub, "after the messages with properties")
    pub.disconnect()
    sub.disconnect()


def message_expiry(ctx):
    """A queued message whose expiry passed is dropped; one still alive arrives with the time
    it waited taken off its Message Expiry Interval."""
    topic = ctx.topic("expiring")
    client_id = ctx.client_id()
    away = ctx.peer(client_id=client_id, clean=False, session_expiry=300)
    away.connect(clean_start=True)
    away.subscribe_granted(topic, 1)
    away.disconnect()

    pub = ctx.peer()
    pub.connect()
    pub.publish(topic, b"short", 1, properties=publish_props(MessageExpiryInterval=1))
    pub.publish(topic, b"long", 1, properties=publish_props(MessageExpiryInterval=300))
    # Waits for time to pass (not for a state): the short message's second must be over,
    # whole seconds included, before the subscriber comes back.
    time.sleep(2.5)

    back = ctx.peer(client_id=client_id, clean=False, session_expiry=0)
    present, _ = back.connect(clean_start=False)
    expect_eq(present, True, "session present on reconnect")
    message = back.next_message("the long-lived message")
    expect_eq(message.payload, b"long", "the first message after the expired one")
    left = message.props.get("MessageExpiryInterval")
    # 2.5 s waited: 297 or 298 s are left, whichever way a broker rounds.
    expect(left is not None and 0 < left <= 299, f"remaining expiry {left!r}, wanted 1..=299")
    expect_message(message, topic, b"long", 1, props={"MessageExpiryInterval": left})
    expect_nothing_more(back, "after the long-lived message (the expired one must not come)")
    back.disconnect()
    pub.disconnect()


def alias_from_client(ctx):
    """The broker resolves the topic aliases a client publishes with (set, used alone, set
    again to another topic)."""
    sub = ctx.peer()
    sub.connect()
    sub.subscribe_granted(ctx.topic("#"), 1)
    pub = ctx.peer()
    _, connack = pub.connect()
    maximum = connack.get("TopicAliasMaximum", 0)
    expect(maximum >= 1, f"the broker's Topic Alias Maximum is {maximum}: nothing to test")
    first, second = ctx.topic("a/first"), ctx.topic("a/second")
    steps = [
        (first, b"set", first),
        ("", b"alias only", first),
        (second, b"remap", second),
        ("", b"remapped alias only", second),
    ]
    for sent_topic, payload, _ in steps:
        pub.publish(sent_topic, payload, 1, properties=publish_props(TopicAlias=1))
    for _, payload, topic in steps:
        expect_message(sub.next_message(), topic, payload, 1)
    expect_nothing_more(sub, "after the aliased messages")
    pub.disconnect()
    sub.disconnect()


def alias_to_client(ctx):
    """A subscriber that allows topic aliases gets every message on its right topic, whether
    the broker uses aliases or not (paho does not resolve them: the scenario does)."""
    sub = ctx.peer(topic_alias_maximum=2, resolve_aliases=True)
    sub.connect()
    sub.subscribe_granted(ctx.topic("#"), 1)
    pub = ctx.peer()
    pub.connect()
    topics = [ctx.topic(f"t/{i % 3}") for i in range(9)]
    for index, topic in enumerate(topics):
        pub.publish(topic, f"m{index}".encode(), 1)
    used = 0
    for index, topic in enumerate(topics):
        message = sub.next_message()
        alias = message.props.pop("TopicAlias", None)
        used += alias is not None
        expect_message(message, topic, f"m{index}".encode(), 1)
    expect_nothing_more(sub, "after the messages")
    note(ctx, f"the broker used aliases on {used} of {len(topics)} messages")
    pub.disconnect()
    sub.disconnect()


# ---------------------------------------------------------------------------------------------
# Runner

NOTES = {}


def note(ctx, text):
    """Something worth printing beside `ok` (how the broker chose to behave)."""
    NOTES.setdefault(ctx.name, []).append(text)


# Known ways in which a broker may depart from the spec, each accepted only when named with
# `--allow` (the mosquitto runner allows those of mosquitto 2.0.11; see README.md).
DEVIATIONS = {
    "retained-to-shared": "5.0: retained messages sent when a shared subscription is made",
}

SCENARIOS = [
    ("qos0", qos_flow(0), (V311, V5)),
    ("qos1", qos_flow(1), (V311, V5)),
    ("qos2", qos_flow(2), (V311, V5)),
    ("retained", retained, (V311, V5)),
    ("will", will, (V311, V5)),
    ("session", persistent_session, (V311, V5)),
    ("shared", shared, (V311, V5)),
    ("properties", properties, (V5,)),
    ("expiry", message_expiry, (V5,)),
    ("alias-from-client", alias_from_client, (V5,)),
    ("alias-to-client", alias_to_client, (V5,)),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per scenario")
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        choices=sorted(DEVIATIONS),
        help="accept this known deviation from the spec (repeatable)",
    )
    args = parser.parse_args()

    run_id = secrets.token_hex(4)
    failed = 0
    ran = 0
    for base, function, versions in SCENARIOS:
        for version in versions:
            name = f"paho/{VERSION_NAMES[version]}/{base}"
            if args.only not in name:
                continue
            ran += 1
            ctx = Context(
                args.host, args.port, run_id, name, version, args.timeout, args.allow
            )
            try:
                function(ctx)
                extra = NOTES.get(name)
                print(f"ok {name}" + (f" ({'; '.join(extra)})" if extra else ""), flush=True)
            except Exception as error:  # noqa: BLE001 - every failure becomes a FAIL line
                failed += 1
                why = str(error) if isinstance(error, ScenarioError) else repr(error)
                print(f"FAIL {name}: {why}", flush=True)
                if not isinstance(error, ScenarioError):
                    traceback.print_exc(file=sys.stderr)
            finally:
                try:
                    ctx.close()
                except Exception:  # noqa: BLE001 - cleanup must not hide the result
                    traceback.print_exc(file=sys.stderr)
    print(f"paho: {ran - failed} passed, {failed} failed", flush=True)
    # Nothing run is a failure, unless --only chose nothing here on purpose.
    return 1 if failed or (not ran and not args.only) else 0


if __name__ == "__main__":
    sys.exit(main())
