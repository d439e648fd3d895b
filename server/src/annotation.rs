//! From a request body to what is stored: parse, give it the server's IRI, keep the client's id
//! in `via`, validate with factmark-core, and put it in stored form.

use factmark_core::json::{self, Map, Value};
use factmark_core::model::{json_kind, Annotation};

use crate::error::ApiError;
use crate::stored::StoredDoc;

/// A validated annotation, ready to store.
pub struct Prepared {
    pub doc: StoredDoc,
    /// The target's source IRI (the page the annotation is on); "" when it names none.
    pub target: String,
}

/// The body must be one JSON object.
pub fn parse_object(body: &[u8]) -> Result<Map, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; send one annotation as JSON",
        ));
    }
    let parsed = std::str::from_utf8(body)
        .map_err(|e| format!("not UTF-8 ({e})"))
        .and_then(|text| json::from_str(text).map_err(|e| e.to_string()));
    match parsed {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(ApiError::bad_request(format!(
            "send one annotation as a JSON object, not {}",
            json_kind(&other)
        ))),
        Err(err) => Err(ApiError::bad_request(format!("malformed JSON: {err}"))),
    }
}

/// The id the client gave the annotation, if any: the key that makes a retried POST
/// idempotent.
pub fn client_id(object: &Map) -> Result<Option<String>, ApiError> {
    match object.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) if id.trim().is_empty() => Err(ApiError::bad_request(
            "id: must not be empty (leave it out to let the server assign one)",
        )),
        Some(Value::String(id)) if id.len() > 2048 => {
            Err(ApiError::bad_request("id: longer than 2048 characters"))
        }
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(_) => Err(ApiError::bad_request("id: must be a string (an IRI)")),
    }
}

/// Give the annotation its server IRI, record `via`, validate, and convert to stored form.
pub fn prepare(mut object: Map, iri: &str, via: Option<&str>) -> Result<Prepared, ApiError> {
    object.insert("id".into(), Value::String(iri.to_string()));
    // `via` is an IRI in the model; a relative client id (e.g. "#abc") still keys idempotency
    // but is not written into the annotation.
    if let Some(via) = via.filter(|v| has_scheme(v)) {
        add_via(&mut object, via);
    }
    let annotation = Annotation::from_value(Value::Object(object))
        .map_err(|err| ApiError::bad_request(format!("invalid annotation: {err}")))?;
    let target = annotation.source().unwrap_or_default().to_string();
    match annotation.to_value() {
        Value::Object(canonical) => Ok(Prepared {
            doc: StoredDoc::from_object(canonical),
            target,
        }),
        _ => Err(ApiError::internal(
            "storing an annotation",
            "core serialized a non-object",
        )),
    }
}

fn add_via(object: &mut Map, via: &str) {
    let Some(entry) = object.get_mut("via") else {
        object.insert("via".into(), via.into());
        return;
    };
    match entry {
        Value::String(existing) if existing == via => {}
        Value::String(existing) => {
            *entry = Value::Array(vec![Value::String(existing.clone()), via.into()])
        }
        Value::Array(list) if list.iter().any(|v| v.as_str() == Some(via)) => {}
        Value::Array(list) => list.push(via.into()),
        _ => *entry = Value::String(via.to_string()),
    }
}

fn has_scheme(s: &str) -> bool {
    s.split_once(':').is_some_and(|(scheme, _)| {
        let mut bytes = scheme.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde_json's `json!` as core's JSON value.
    fn j(v: serde_json::Value) -> Value {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn parse_object_messages() {
        assert!(parse_object(b"{}").is_ok());
        assert!(parse_object(b"").unwrap_err().message.contains("empty"));
        assert!(parse_object(b"[1]")
            .unwrap_err()
            .message
            .contains("not an array"));
        let err = parse_object(b"{\"a\": ").unwrap_err();
        assert!(err.message.starts_with("malformed JSON"), "{}", err.message);
    }

    #[test]
    fn client_ids() {
        let obj = |v: serde_json::Value| j(v).as_object().unwrap().clone();
        assert_eq!(
            client_id(&obj(serde_json::json!({"id": "urn:uuid:1"})))
                .unwrap()
                .as_deref(),
            Some("urn:uuid:1")
        );
        assert_eq!(client_id(&obj(serde_json::json!({}))).unwrap(), None);
        assert_eq!(
            client_id(&obj(serde_json::json!({"id": 5})))
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
        assert_eq!(
            client_id(&obj(serde_json::json!({"id": " "})))
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
    }

    #[test]
    fn via_is_added_once_and_merged_with_an_existing_one() {
        let mut o = Map::new();
        add_via(&mut o, "urn:a");
        add_via(&mut o, "urn:a");
        assert_eq!(o.get("via"), Some(&j(serde_json::json!("urn:a"))));
        add_via(&mut o, "urn:b");
        assert_eq!(
            o.get("via"),
            Some(&j(serde_json::json!(["urn:a", "urn:b"])))
        );
        add_via(&mut o, "urn:b");
        assert_eq!(
            o.get("via"),
            Some(&j(serde_json::json!(["urn:a", "urn:b"])))
        );
    }
}
