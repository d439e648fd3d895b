//! The stored form of an annotation and how it becomes a response.
//!
//! An annotation's IRI depends on where the server is reached (`--public-url`, or the request's
//! Host), so the database keeps the JSON with an empty `"id":""` and the byte offset of that
//! empty string. Responses splice the IRI in at that offset: reads never parse stored JSON.

use factmark_core::json::{self, Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    /// Compact JSON of the annotation with `"id":""`, placed right after `@context`.
    pub text: String,
    /// Byte offset of the `""` that the IRI replaces.
    pub id_at: usize,
}

impl StoredDoc {
    /// Build from a validated annotation object; any `id` in it is dropped.
    pub fn from_object(mut object: Map) -> StoredDoc {
        object.shift_remove("id");
        let context = object.shift_remove("@context");

        let mut prefix = String::from("{");
        if let Some(context) = &context {
            prefix.push_str("\"@context\":");
            prefix.push_str(&json::to_string(context));
            prefix.push(',');
        }
        prefix.push_str("\"id\":");

        let mut ordered = Map::new();
        if let Some(context) = context {
            ordered.insert("@context".to_string(), context);
        }
        ordered.insert("id".to_string(), Value::String(String::new()));
        ordered.extend(object);
        let text = json::to_string(&Value::Object(ordered));
        debug_assert!(text.starts_with(&prefix) && text[prefix.len()..].starts_with("\"\""));
        StoredDoc {
            id_at: prefix.len(),
            text,
        }
    }

    /// Rebuild from database columns; refuses an offset that does not point at `""`.
    pub fn from_parts(text: String, id_at: i64) -> Option<StoredDoc> {
        let id_at = usize::try_from(id_at).ok()?;
        let points_at_empty = text
            .get(id_at..)
            .is_some_and(|rest| rest.starts_with("\"\""));
        points_at_empty.then_some(StoredDoc { text, id_at })
    }

    /// The annotation as JSON text with `iri` as its `id`.
    pub fn render(&self, iri: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + iri.len() + 8);
        self.render_into(iri, &mut out);
        out
    }

    pub fn render_into(&self, iri: &str, out: &mut String) {
        out.push_str(&self.text[..self.id_at]);
        json::push_string(out, iri);
        out.push_str(&self.text[self.id_at + 2..]);
    }

    /// Strong ETag of this version. The stored text excludes the IRI, so the tag is the same
    /// whichever host name a client used, and identical content keeps an identical tag.
    pub fn etag(&self) -> String {
        format!("\"{:016x}\"", content_hash(self.text.as_bytes()))
    }
}

/// Appends one listed annotation: its full JSON, or only its IRI (a JSON string).
pub fn push_item(out: &mut String, container: &str, slug: &str, doc: &StoredDoc, iris_only: bool) {
    let iri = format!("{container}{slug}");
    if iris_only {
        json::push_string(out, &iri);
    } else {
        doc.render_into(&iri, out);
    }
}

/// A 64-bit hash for ETags and sharding: word at a time (an ETag is computed for every
/// listing response), and stable across builds and processes (several servers can share one
/// PostgreSQL), which std's hashers do not promise.
pub fn content_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut hash = 0xcbf2_9ce4_8422_2325 ^ (bytes.len() as u64).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        hash = (hash ^ word).wrapping_mul(K);
        hash ^= hash >> 29;
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    hash = (hash ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    hash ^ (hash >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: serde_json::Value) -> Map {
        match serde_json::from_value(value).unwrap() {
            Value::Object(map) => map,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn render_puts_the_iri_after_the_context_and_keeps_member_order() {
        let doc = StoredDoc::from_object(object(json!({
            "type": "Annotation",
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "id": "urn:uuid:client",
            "target": {"source": "https://news.example/a"}
        })));
        let rendered = doc.render("http://h/annotations/1");
        assert_eq!(
            rendered,
            r#"{"@context":"http://www.w3.org/ns/anno.jsonld","id":"http://h/annotations/1","type":"Annotation","target":{"source":"https://news.example/a"}}"#
        );
        let back: serde_json::Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(back["id"], "http://h/annotations/1");
    }

    #[test]
    fn render_escapes_the_iri_and_survives_an_id_like_string_in_the_context() {
        let doc = StoredDoc::from_object(object(json!({
            "@context": ["http://www.w3.org/ns/anno.jsonld", {"id": "", "x": "\"id\":\"\""}],
            "type": "Annotation"
        })));
        let rendered = doc.render("http://h/a?\"quote\"");
        let back: serde_json::Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(back["id"], "http://h/a?\"quote\"");
        assert_eq!(back["@context"][1]["id"], "");
    }

    #[test]
    fn without_context_the_id_comes_first() {
        let doc = StoredDoc::from_object(object(json!({"type": "Annotation"})));
        assert_eq!(doc.render("x:1"), r#"{"id":"x:1","type":"Annotation"}"#);
    }

    #[test]
    fn from_parts_rejects_a_wrong_offset() {
        let doc = StoredDoc::from_object(object(json!({"type": "Annotation"})));
        assert_eq!(
            StoredDoc::from_parts(doc.text.clone(), doc.id_at as i64),
            Some(doc.clone())
        );
        assert_eq!(StoredDoc::from_parts(doc.text.clone(), 1), None);
        assert_eq!(StoredDoc::from_parts(doc.text.clone(), -1), None);
        assert_eq!(StoredDoc::from_parts(doc.text.clone(), 10_000), None);
    }

    #[test]
    fn content_hash_sees_every_byte() {
        let base = vec![b'a'; 37];
        let mut seen = std::collections::HashSet::new();
        assert!(seen.insert(content_hash(&base)));
        for i in 0..base.len() {
            let mut changed = base.clone();
            changed[i] = b'b';
            assert!(
                seen.insert(content_hash(&changed)),
                "byte {i} did not change the hash"
            );
        }
        assert!(seen.insert(content_hash(&base[..36])), "length matters");
        assert!(seen.insert(content_hash(b"")));
    }

    #[test]
    fn etag_follows_content_not_host() {
        let a = StoredDoc::from_object(object(json!({"type": "Annotation", "n": 1})));
        let b = StoredDoc::from_object(object(json!({"type": "Annotation", "n": 2})));
        assert_ne!(a.etag(), b.etag());
        assert_eq!(a.etag(), a.clone().etag());
        assert!(a.etag().starts_with('"') && a.etag().ends_with('"') && a.etag().len() == 18);
    }
}
