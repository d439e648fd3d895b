//! The tests write JSON with serde_json (`json!`, indexing); the model reads and writes core's
//! own JSON value (`factmark_core::json`). These convert at the model's edge, through serde.

use factmark_core::json;
use factmark_core::model::{Annotation, ValidationError};

/// serde_json's value as core's.
pub fn to_core(v: serde_json::Value) -> json::Value {
    serde_json::from_value(v).expect("every serde_json value is a core JSON value")
}

/// core's JSON value as serde_json's.
pub fn to_serde(v: json::Value) -> serde_json::Value {
    serde_json::to_value(v).expect("every core JSON value is a serde_json value")
}

pub trait ViaSerde: Sized {
    fn from_serde(v: serde_json::Value) -> Result<Self, ValidationError>;
    fn to_serde(&self) -> serde_json::Value;
}

impl ViaSerde for Annotation {
    fn from_serde(v: serde_json::Value) -> Result<Self, ValidationError> {
        Annotation::from_value(to_core(v))
    }

    fn to_serde(&self) -> serde_json::Value {
        to_serde(self.to_value())
    }
}
