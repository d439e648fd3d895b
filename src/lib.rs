//! factmark: flag passages of news articles as unverified or fabricated, in place.
//!
//! The data path reads top to bottom: page text (`dom::text`) → anchors (`factmark-core`) →
//! highlights (`dom::highlight`) → the reader's UI (`ui`, over `state`) → storage (`store`).
//! `embed` is how a page starts it; `widget` ties the parts together.

#[cfg(feature = "bench-hook")]
pub mod bench;
pub mod config;
pub mod dom;
pub mod embed;
pub mod i18n;
pub mod listen;
pub mod signal;
pub mod state;
pub mod store;
pub mod ui;
pub mod widget;

pub use embed::boot;

/// Smaller than the default dlmalloc (see Cargo.toml); single-threaded wasm only.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
