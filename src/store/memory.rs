//! Annotations kept for the life of the page only: the fallback when browser storage is
//! unavailable, and a plain backend for tests.

use std::rc::Rc;

use factmark_core::model::Annotation;

use super::{upsert_all, Problem, Store, StoreError};

#[derive(Default)]
pub struct MemoryStore {
    annotations: Vec<Annotation>,
    problems: Vec<Problem>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A memory store standing in for storage that could not be used, saying why.
    pub fn instead_of_unavailable(why: String) -> MemoryStore {
        MemoryStore {
            annotations: Vec::new(),
            problems: vec![Problem::Unavailable(why)],
        }
    }
}

impl Store for MemoryStore {
    fn load(&mut self) -> Vec<Annotation> {
        self.annotations.clone()
    }

    fn save(&mut self, annotations: &[Annotation]) -> Result<(), StoreError> {
        upsert_all(&mut self.annotations, annotations);
        Ok(())
    }

    fn remove(&mut self, id: &str) -> Result<(), StoreError> {
        self.annotations.retain(|a| a.id != id);
        Ok(())
    }

    fn take_problems(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }

    fn watch(&mut self, _on_change: Rc<dyn Fn()>) {}
}
