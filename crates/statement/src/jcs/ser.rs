//! A `serde::Serializer` from typed data to a [`Value`] with the checks of the parser,
//! behind [`super::to_value`].
//!
//! It mirrors `serde_json`'s value serializer (unit is `null`, an enum variant with data is
//! a one-member object named after the variant, bytes are an array of numbers), and refuses
//! what `serde_json` lets through or changes silently: NaN and infinities (it writes
//! `null`), integers a double cannot hold exactly, duplicate member names (it keeps the
//! last), noncharacters, and nesting deeper than [`MAX_DEPTH`].

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

use super::parse::{MAX_SAFE_INTEGER, find_noncharacter, number_from_f64};
use super::{JcsError, MAX_DEPTH};

/// Serializes one value inside `depth` arrays and objects.
pub(super) struct ValueSerializer {
    depth: usize,
}

impl ValueSerializer {
    pub(super) fn new() -> Self {
        ValueSerializer { depth: 0 }
    }

    /// The serializer for values one level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested(&self) -> Result<ValueSerializer, JcsError> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(JcsError::TooDeep {
                offset: None,
                max: MAX_DEPTH,
            });
        }
        Ok(ValueSerializer { depth })
    }
}

fn integer(value: i128) -> Result<Value, JcsError> {
    let safe = i128::from(MAX_SAFE_INTEGER);
    if value > safe || value < -safe {
        return Err(JcsError::IntegerOutOfRange { value });
    }
    // In range, so both conversions succeed; `number_from_f64` would give the same
    // `Number` for this value.
    let number = match u64::try_from(value) {
        Ok(u) => Number::from(u),
        Err(_) => {
            Number::from(i64::try_from(value).map_err(|_| JcsError::IntegerOutOfRange { value })?)
        }
    };
    Ok(Value::Number(number))
}

fn float(value: f64) -> Result<Value, JcsError> {
    number_from_f64(value)
        .map(Value::Number)
        .ok_or(JcsError::NonFiniteNumber)
}

fn string(value: &str) -> Result<String, JcsError> {
    if let Some((_, code_point)) = find_noncharacter(value) {
        return Err(JcsError::Noncharacter {
            offset: None,
            code_point,
        });
    }
    Ok(value.to_owned())
}

/// A one-member object `{variant: value}`, serde_json's form of an enum variant with data.
fn variant(variant: &'static str, value: Value) -> Result<Value, JcsError> {
    let mut map = Map::new();
    map.insert(string(variant)?, value);
    Ok(Value::Object(map))
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = JcsError;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = SeqSerializer;
    type SerializeMap = MapSerializer;
    type SerializeStruct = MapSerializer;
    type SerializeStructVariant = MapSerializer;

    fn serialize_bool(self, v: bool) -> Result<Value, JcsError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, JcsError> {
        integer(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Value, JcsError> {
        integer(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Value, JcsError> {
        integer(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Value, JcsError> {
        integer(v.into())
    }
    fn serialize_i128(self, v: i128) -> Result<Value, JcsError> {
        integer(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, JcsError> {
        integer(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Value, JcsError> {
        integer(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Value, JcsError> {
        integer(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Value, JcsError> {
        integer(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result<Value, JcsError> {
        integer(i128::try_from(v).unwrap_or(i128::MAX))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, JcsError> {
        // Exact: every f32 is a double. 0.1f32 becomes 0.10000000149011612.
        float(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<Value, JcsError> {
        float(v)
    }
    fn serialize_char(self, v: char) -> Result<Value, JcsError> {
        string(v.encode_utf8(&mut [0; 4])).map(Value::String)
    }
    fn serialize_str(self, v: &str) -> Result<Value, JcsError> {
        string(v).map(Value::String)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, JcsError> {
        self.nested()?;
        Ok(Value::Array(
            v.iter().map(|&b| Value::Number(b.into())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Value, JcsError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, JcsError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, JcsError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, JcsError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, JcsError> {
        string(variant).map(Value::String)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, JcsError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        name: &'static str,
        value: &T,
    ) -> Result<Value, JcsError> {
        let inner = value.serialize(self.nested()?)?;
        variant(name, inner)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, JcsError> {
        Ok(SeqSerializer {
            items: Vec::with_capacity(len.unwrap_or(0).min(1024)),
            inner: self.nested()?,
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, JcsError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, JcsError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, JcsError> {
        // One level for the wrapping object, one for the array.
        let mut seq = self.nested()?.serialize_seq(Some(len))?;
        seq.variant = Some(variant);
        Ok(seq)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSerializer, JcsError> {
        Ok(MapSerializer {
            map: Map::new(),
            next_key: None,
            inner: self.nested()?,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapSerializer, JcsError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapSerializer, JcsError> {
        let mut map = self.nested()?.serialize_map(Some(len))?;
        map.variant = Some(variant);
        Ok(map)
    }
}

/// An array (or a tuple variant's array) being built.
pub(super) struct SeqSerializer {
    items: Vec<Value>,
    /// The serializer for the items, one level deeper.
    inner: ValueSerializer,
    /// For a tuple variant, the variant whose one-member object wraps the array.
    variant: Option<&'static str>,
}

impl SeqSerializer {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        let inner = ValueSerializer {
            depth: self.inner.depth,
        };
        self.items.push(value.serialize(inner)?);
        Ok(())
    }

    fn finish(self) -> Result<Value, JcsError> {
        let array = Value::Array(self.items);
        match self.variant {
            None => Ok(array),
            Some(name) => variant(name, array),
        }
    }
}

impl ser::SerializeSeq for SeqSerializer {
    type Ok = Value;
    type Error = JcsError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, JcsError> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqSerializer {
    type Ok = Value;
    type Error = JcsError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, JcsError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqSerializer {
    type Ok = Value;
    type Error = JcsError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, JcsError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqSerializer {
    type Ok = Value;
    type Error = JcsError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, JcsError> {
        self.finish()
    }
}

/// An object (or a struct variant's object) being built.
pub(super) struct MapSerializer {
    map: Map<String, Value>,
    /// The key given to `serialize_key`, waiting for its value.
    next_key: Option<String>,
    /// The serializer for the member values, one level deeper.
    inner: ValueSerializer,
    /// For a struct variant, the variant whose one-member object wraps the object.
    variant: Option<&'static str>,
}

impl MapSerializer {
    fn insert<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), JcsError> {
        let inner = ValueSerializer {
            depth: self.inner.depth,
        };
        let value = value.serialize(inner)?;
        match self.map.entry(key) {
            Entry::Vacant(entry) => {
                entry.insert(value);
                Ok(())
            }
            Entry::Occupied(entry) => Err(JcsError::DuplicateKey {
                key: entry.key().clone(),
                offset: None,
            }),
        }
    }

    fn finish(self) -> Result<Value, JcsError> {
        let object = Value::Object(self.map);
        match self.variant {
            None => Ok(object),
            Some(name) => variant(name, object),
        }
    }
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Value;
    type Error = JcsError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), JcsError> {
        self.next_key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        // serde calls `serialize_key` before each `serialize_value`; a `Serialize`
        // implementation that does not is refused rather than trusted.
        let key = self.next_key.take().ok_or_else(|| JcsError::Serialize {
            message: "map value serialized without a key".to_owned(),
        })?;
        self.insert(key, value)
    }
    fn end(self) -> Result<Value, JcsError> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapSerializer {
    type Ok = Value;
    type Error = JcsError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JcsError> {
        self.insert(string(key)?, value)
    }
    fn end(self) -> Result<Value, JcsError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for MapSerializer {
    type Ok = Value;
    type Error = JcsError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JcsError> {
        self.insert(string(key)?, value)
    }
    fn end(self) -> Result<Value, JcsError> {
        self.finish()
    }
}

/// Serializes a map key to a member name: strings and chars as they are, integers and
/// booleans in their JSON text (as `serde_json` does), everything else refused.
struct KeySerializer;

fn not_a_string(found: &'static str) -> JcsError {
    JcsError::KeyMustBeString { found }
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = JcsError;
    type SerializeSeq = Impossible<String, JcsError>;
    type SerializeTuple = Impossible<String, JcsError>;
    type SerializeTupleStruct = Impossible<String, JcsError>;
    type SerializeTupleVariant = Impossible<String, JcsError>;
    type SerializeMap = Impossible<String, JcsError>;
    type SerializeStruct = Impossible<String, JcsError>;
    type SerializeStructVariant = Impossible<String, JcsError>;

    fn serialize_bool(self, v: bool) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, JcsError> {
        Err(not_a_string("f32"))
    }
    fn serialize_f64(self, _v: f64) -> Result<String, JcsError> {
        Err(not_a_string("f64"))
    }
    fn serialize_char(self, v: char) -> Result<String, JcsError> {
        string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<String, JcsError> {
        string(v)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, JcsError> {
        Err(not_a_string("bytes"))
    }
    fn serialize_none(self) -> Result<String, JcsError> {
        Err(not_a_string("none"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, JcsError> {
        Err(not_a_string("option"))
    }
    fn serialize_unit(self) -> Result<String, JcsError> {
        Err(not_a_string("unit"))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, JcsError> {
        Err(not_a_string("unit struct"))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, JcsError> {
        string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, JcsError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, JcsError> {
        Err(not_a_string("enum variant with data"))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, JcsError> {
        Err(not_a_string("sequence"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, JcsError> {
        Err(not_a_string("tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, JcsError> {
        Err(not_a_string("tuple struct"))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, JcsError> {
        Err(not_a_string("enum variant with data"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, JcsError> {
        Err(not_a_string("map"))
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, JcsError> {
        Err(not_a_string("struct"))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, JcsError> {
        Err(not_a_string("enum variant with data"))
    }
}
