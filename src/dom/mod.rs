//! The browser side of the page: its text, highlights, selection, and changes.

pub mod highlight;
pub mod js;
pub mod observe;
pub mod selection;
pub mod text;
