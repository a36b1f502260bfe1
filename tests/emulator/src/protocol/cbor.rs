//! The `rpcv2Cbor` protocol as the Rust SDK sends CloudWatch calls: the operation is in the path,
//! the input a CBOR map (the SDK writes maps with indefinite length and arrays with definite
//! length; both forms are accepted), timestamps as tag 1 around a float64 of epoch seconds. Decoded into the same JSON tree the other protocols produce.

use axum::http::StatusCode;
use ciborium::Value as Cbor;
use serde_json::{Map, Number, Value, json};

use super::Reply;
use crate::error::ApiError;

pub const CONTENT_TYPE: &str = "application/cbor";

/// An empty CBOR map, the body of an operation with no output members.
const EMPTY_MAP: u8 = 0xa0;

pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    let cbor: Cbor = ciborium::from_reader(body)
        .map_err(|e| serialization(format!("malformed CBOR body: {e}")))?;
    to_json(cbor)
}

fn serialization(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "SerializationException", message)
}

fn to_json(cbor: Cbor) -> Result<Value, ApiError> {
    Ok(match cbor {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Text(s) => Value::String(s),
        Cbor::Integer(i) => {
            let i = i128::from(i);
            let number = i64::try_from(i)
                .map(Number::from)
                .or_else(|_| u64::try_from(i).map(Number::from))
                .map_err(|_| serialization(format!("integer {i} out of range")))?;
            Value::Number(number)
        }
        // JSON cannot hold NaN and the infinities: they become the strings the JSON protocols
        // send for them, which the service then refuses with the parameter's name.
        Cbor::Float(f) => match Number::from_f64(f) {
            Some(number) => Value::Number(number),
            None if f.is_nan() => Value::String("NaN".to_owned()),
            None if f > 0.0 => Value::String("Infinity".to_owned()),
            None => Value::String("-Infinity".to_owned()),
        },
        // Tag 1 (epoch-based date) and any other tag: the tagged value is what we need.
        Cbor::Tag(_, inner) => to_json(*inner)?,
        Cbor::Array(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Cbor::Map(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let Cbor::Text(key) = key else {
                    return Err(serialization(format!("map key {key:?} is not text")));
                };
                map.insert(key, to_json(value)?);
            }
            Value::Object(map)
        }
        other => return Err(serialization(format!("unsupported CBOR value {other:?}"))),
    })
}

pub fn encode_reply(reply: Reply) -> Vec<u8> {
    match reply {
        Reply::Json(value) => encode(&value),
        Reply::Empty | Reply::Xml(_) | Reply::Http(_) => vec![EMPTY_MAP],
    }
}

/// `{"__type": type_name, "message": ..}`; `type_name` is the error's shape id or its code.
pub fn encode_error(error: &ApiError, type_name: &str) -> Vec<u8> {
    encode(&json!({"__type": type_name, "message": error.message}))
}

fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact body the Rust SDK (cloudwatch 1.140) sent for one datum: indefinite-length maps
    /// (`bf`..`ff`), definite-length arrays (`81`), the timestamp as tag 1 + float64 (`c1 fb`).
    const SDK_BODY: &str = "bf694e616d65737061636569526f6f7453776565706a4d6574726963446174618\
        1bf6a4d65747269634e616d6561416a44696d656e73696f6e7381bf644e616d65614d6556616c75656178ff69\
        54696d657374616d70c1fb41d9f5554c5000006556616c7565fb400800000000000064556e697465436f756e74ffff";

    #[test]
    fn decodes_what_the_rust_sdk_sends() {
        let bytes: Vec<u8> = (0..SDK_BODY.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&SDK_BODY[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({"Namespace": "RootSweep", "MetricData": [{
                "MetricName": "A",
                "Dimensions": [{"Name": "M", "Value": "x"}],
                "Timestamp": 1_742_034_225.25,
                "Value": 3.0,
                "Unit": "Count"
            }]})
        );
    }

    #[test]
    fn errors_round_trip() {
        let bytes = encode_error(
            &ApiError::new(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded"),
            "Throttling",
        );
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({"__type": "Throttling", "message": "Rate exceeded"})
        );
    }
}
