//! When a property block breaks more than one rule, the decoder names the first rule the
//! property breaks in reading order: its identifier (unknown, then not allowed in the packet,
//! then already given), before its value (cut short, then out of range); and a property is
//! refused before any later one is read.
//!
//! These pin the order the property-set decoder has always had, so that sharing its code
//! between the packets cannot change which error a peer is told about.
#![cfg(feature = "v5")]

mod common;

use common::{V5, decode_error, hex};
use mqtt_sansio::{DecodeError, PropertyId};

/// A CONNACK (Session Present 0, Success) with `properties` as its property block.
fn connack_with(properties: &str) -> Vec<u8> {
    let block = hex(properties);
    let mut wire = vec![0x20, u8::try_from(block.len() + 3).unwrap(), 0x00, 0x00];
    wire.push(u8::try_from(block.len()).unwrap());
    wire.extend(block);
    wire
}

#[test]
fn identifier_rules_come_before_value_rules_and_earlier_properties_before_later_ones() {
    for (properties, error) in [
        // Receive Maximum twice, the second value cut short: the repeat is named.
        (
            "21 0005 21 00",
            DecodeError::DuplicateProperty(PropertyId::ReceiveMaximum),
        ),
        // Retain Available twice, the second value out of range: the repeat is named.
        (
            "25 01 25 02",
            DecodeError::DuplicateProperty(PropertyId::RetainAvailable),
        ),
        // Topic Alias, which CONNACK does not allow, with its value cut short.
        (
            "23 00",
            DecodeError::PropertyNotAllowed {
                property: PropertyId::TopicAlias,
                packet: "CONNACK",
            },
        ),
        // Maximum QoS 2, then an undefined identifier: the value is refused first.
        (
            "24 02 00",
            DecodeError::InvalidPropertyValue(PropertyId::MaximumQos),
        ),
        // Receive Maximum 0, then a User Property whose name is not UTF-8.
        (
            "21 0000 26 0001 FF 0000",
            DecodeError::InvalidPropertyValue(PropertyId::ReceiveMaximum),
        ),
        // A User Property whose name is not UTF-8, then Receive Maximum 0.
        (
            "26 0001 FF 0000 21 0000",
            DecodeError::InvalidUtf8 {
                field: "user property name",
            },
        ),
        // A string value cut short, named by its property.
        (
            "1F 0005 61",
            DecodeError::UnexpectedEnd {
                field: "Reason String",
            },
        ),
    ] {
        assert_eq!(
            decode_error(V5, &connack_with(properties)),
            error,
            "{properties}"
        );
    }
}
