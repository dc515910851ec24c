use bytes::Bytes;
use mqtt_sansio::broker::ConnectionHandle;
use mqtt_sansio::{
    Broker, BrokerConfig, Connect, Delivery, Instant, MqttString, Packet, PacketId,
    ProtocolVersion, Publish, QoS, Subscribe, Subscription, TopicFilter, TopicName,
};
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const NOW: Instant = Instant::ZERO;
fn wire(packet: impl Into<Packet>) -> Vec<u8> { let mut out = Vec::new(); packet.into().encode(V311, &mut out).unwrap(); out }
fn connect(broker: &mut Broker, client_id: &str) -> ConnectionHandle {
    let handle = broker.accept(NOW).unwrap();
    let packet = Connect::<Bytes>::new(V311, MqttString::new(bytestring::ByteString::from(client_id)).unwrap());
    broker.handle_data(NOW, handle, &wire(packet)); handle
}
fn subscribe(broker: &mut Broker, handle: ConnectionHandle, filter: &str, qos: QoS) {
    let packet = Subscribe::<Bytes>::new(PacketId::new(1).unwrap(), [Subscription::new(TopicFilter::new(bytestring::ByteString::from(filter)).unwrap(), qos)]);
    broker.handle_data(NOW, handle, &wire(packet));
}
fn publish(qos: QoS, id: u16) -> Vec<u8> {
    let mut publish = Publish::new(TopicName::new("bench/topic").unwrap(), Bytes::from_static(&[0x5a; 64]));
    publish.delivery = Delivery::new(qos, PacketId::new(id).unwrap());
    wire(Packet::Publish(publish))
}
fn drain(broker: &mut Broker, buf: &mut [u8]) -> usize {
    let mut packets = 0;
    while let Some(t) = broker.poll_transmit(buf) { std::hint::black_box(&buf[..t.len]); packets += t.packets; }
    while broker.poll_event().is_some() {}
    packets
}
fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap();
    let iters: usize = args.next().unwrap().parse().unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut broker = Broker::new(BrokerConfig::default());
    match which.as_str() {
        "fanout" => {
            for n in 0..100 { let h = connect(&mut broker, &format!("sub-{n}")); subscribe(&mut broker, h, "bench/#", QoS::AtMostOnce); }
            let p = connect(&mut broker, "pub"); drain(&mut broker, &mut buf);
            let m = publish(QoS::AtMostOnce, 1);
            for _ in 0..iters { broker.handle_data(NOW, p, &m); drain(&mut broker, &mut buf); }
        }
        "fanin" => {
            let s = connect(&mut broker, "sub"); subscribe(&mut broker, s, "bench/#", QoS::AtMostOnce);
            let ps: Vec<_> = (0..100).map(|n| connect(&mut broker, &format!("pub-{n}"))).collect();
            drain(&mut broker, &mut buf);
            let m = publish(QoS::AtMostOnce, 1);
            for _ in 0..iters { for &p in &ps { broker.handle_data(NOW, p, &m); } drain(&mut broker, &mut buf); }
        }
        "qos1" => {
            let s = connect(&mut broker, "sub"); subscribe(&mut broker, s, "bench/#", QoS::AtLeastOnce);
            let p = connect(&mut broker, "pub"); drain(&mut broker, &mut buf);
            let m = publish(QoS::AtLeastOnce, 1);
            let mut next: u16 = 0;
            for _ in 0..iters {
                broker.handle_data(NOW, p, &m);
                next = next.checked_add(1).unwrap_or(1);
                let [h, l] = next.to_be_bytes();
                drain(&mut broker, &mut buf);
                broker.handle_data(NOW, s, &[0x40, 0x02, h, l]);
            }
        }
        _ => panic!(),
    }
}
