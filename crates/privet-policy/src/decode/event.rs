//! Deserializing one event object key by key, recording the first problem instead of failing,
//! so that a structured, value-free error can be reported for it.

use super::IncomingEvent;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// What is wrong with one event, before its index is known.
#[derive(Debug)]
pub(super) enum EventProblem {
    NotAnObject,
    MissingKey(&'static str),
    WrongType {
        key: &'static str,
        expected: &'static str,
    },
    BadTimestamp,
    /// The key's name, already cut by [`crate::clip_name`].
    UnknownKey(String),
    DuplicateKey(&'static str),
}

/// An event, or what is wrong with it. Deserializing it fails only on malformed JSON.
pub(super) struct EventOrProblem(pub(super) Result<IncomingEvent, EventProblem>);

impl<'de> Deserialize<'de> for EventOrProblem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = EventOrProblem;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        read_event(map).map(EventOrProblem)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(not_an_object())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }
}

fn not_an_object() -> EventOrProblem {
    EventOrProblem(Err(EventProblem::NotAnObject))
}

/// Reads the keys of one event object. After the first problem the remaining values are
/// skipped unread (so the JSON stays in step) and the problem is returned.
pub(super) fn read_event<'de, A: MapAccess<'de>>(
    mut map: A,
) -> Result<Result<IncomingEvent, EventProblem>, A::Error> {
    let mut stream = None;
    let mut ts = None;
    let mut data = None;
    let mut member = None;
    let mut firmware = None;
    let mut problem = None;
    while let Some(key) = map.next_key::<EventKey>()? {
        if problem.is_some() {
            map.next_value::<IgnoredAny>()?;
            continue;
        }
        let name = key.name();
        let seen = match key {
            EventKey::Stream => stream.is_some(),
            EventKey::Ts => ts.is_some(),
            EventKey::Data => data.is_some(),
            EventKey::Member => member.is_some(),
            EventKey::Firmware => firmware.is_some(),
            EventKey::Unknown(_) => false,
        };
        if seen {
            problem = Some(EventProblem::DuplicateKey(name));
            map.next_value::<IgnoredAny>()?;
            continue;
        }
        match key {
            EventKey::Stream => match map.next_value::<Text>()? {
                Text::Str(s) => stream = Some(s),
                _ => problem = Some(wrong_type(name, "a string")),
            },
            EventKey::Ts => match map.next_value::<Ts>()? {
                Ts::Valid(t) => ts = Some(t),
                Ts::Invalid => problem = Some(EventProblem::BadTimestamp),
                Ts::NotAString => problem = Some(wrong_type(name, "an RFC 3339 timestamp string")),
            },
            EventKey::Data => match map.next_value::<Data>()? {
                Data::Object(d) => data = Some(d),
                Data::Other => problem = Some(wrong_type(name, "an object")),
            },
            EventKey::Member | EventKey::Firmware => {
                let slot = if matches!(key, EventKey::Member) {
                    &mut member
                } else {
                    &mut firmware
                };
                match map.next_value::<Text>()? {
                    Text::Str(s)
                        if matches!(key, EventKey::Firmware)
                            && !crate::decode::valid_firmware(&s) =>
                    {
                        problem = Some(wrong_type(
                            name,
                            "a version of 1 to 64 characters without control characters",
                        ));
                    }
                    Text::Str(s) => *slot = Some(Some(s)),
                    Text::Null => *slot = Some(None),
                    Text::Other => problem = Some(wrong_type(name, "a string")),
                }
            }
            EventKey::Unknown(k) => {
                problem = Some(EventProblem::UnknownKey(k));
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    if let Some(p) = problem {
        return Ok(Err(p));
    }
    let Some(stream) = stream else {
        return Ok(Err(EventProblem::MissingKey("stream")));
    };
    let Some(ts) = ts else {
        return Ok(Err(EventProblem::MissingKey("ts")));
    };
    let Some(data) = data else {
        return Ok(Err(EventProblem::MissingKey("data")));
    };
    Ok(Ok(IncomingEvent {
        stream,
        ts,
        data,
        member: member.flatten(),
        firmware: firmware.flatten(),
    }))
}

fn wrong_type(key: &'static str, expected: &'static str) -> EventProblem {
    EventProblem::WrongType { key, expected }
}

/// A top-level key of an event; known keys are matched without allocating.
enum EventKey {
    Stream,
    Ts,
    Data,
    Member,
    Firmware,
    Unknown(String),
}

impl EventKey {
    fn name(&self) -> &'static str {
        match self {
            EventKey::Stream => "stream",
            EventKey::Ts => "ts",
            EventKey::Data => "data",
            EventKey::Member => "member",
            EventKey::Firmware => "firmware",
            EventKey::Unknown(_) => "",
        }
    }
}

impl<'de> Deserialize<'de> for EventKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = EventKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EventKey, E> {
                Ok(match v {
                    "stream" => EventKey::Stream,
                    "ts" => EventKey::Ts,
                    "data" => EventKey::Data,
                    "member" => EventKey::Member,
                    "firmware" => EventKey::Firmware,
                    other => EventKey::Unknown(crate::clip_name(other)),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// A value that should be a string; anything else is skipped without keeping it.
enum Text {
    Str(String),
    Null,
    Other,
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text::Str(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text, E> {
                Ok(Text::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text, E> {
                Ok(Text::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text, E> {
                Ok(Text::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text, E> {
                Ok(Text::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                skip_seq(seq).map(|()| Text::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                skip_map(map).map(|()| Text::Other)
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A `ts` value, parsed in place from the borrowed string.
enum Ts {
    Valid(jiff::Timestamp),
    Invalid,
    NotAString,
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TsVisitor;
        impl<'de> Visitor<'de> for TsVisitor {
            type Value = Ts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ts, E> {
                Ok(v.parse().map_or(Ts::Invalid, Ts::Valid))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Ts, E> {
                Ok(Ts::NotAString)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Ts, E> {
                Ok(Ts::NotAString)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Ts, E> {
                Ok(Ts::NotAString)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Ts, E> {
                Ok(Ts::NotAString)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Ts, E> {
                Ok(Ts::NotAString)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Ts, A::Error> {
                skip_seq(seq).map(|()| Ts::NotAString)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Ts, A::Error> {
                skip_map(map).map(|()| Ts::NotAString)
            }
        }
        deserializer.deserialize_any(TsVisitor)
    }
}

/// A `data` value: an object read straight into a map, or anything else, skipped.
enum Data {
    Object(Map<String, Value>),
    Other,
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DataVisitor;
        impl<'de> Visitor<'de> for DataVisitor {
            type Value = Data;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Data, A::Error> {
                Map::deserialize(MapAccessDeserializer::new(map)).map(Data::Object)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Data, E> {
                Ok(Data::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Data, E> {
                Ok(Data::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Data, E> {
                Ok(Data::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Data, E> {
                Ok(Data::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Data, E> {
                Ok(Data::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Data, E> {
                Ok(Data::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Data, A::Error> {
                skip_seq(seq).map(|()| Data::Other)
            }
        }
        deserializer.deserialize_any(DataVisitor)
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}
