//! A tiny element builder. Text always goes in as text nodes, never as markup, and no style
//! attribute is ever written (positions use CSSOM, which a strict CSP allows).
//!
//! Plain functions over web-sys rather than a view macro: the UI is small, and generic view
//! code cost more wasm than the rest of the widget together.

use wasm_bindgen::{JsCast, UnwrapThrowExt};
use web_sys::{Document, Element, HtmlElement};

thread_local! {
    static DOCUMENT: Document = web_sys::window().and_then(|w| w.document()).expect("a document");
}

pub struct H(Element);

pub fn h(tag: &str) -> H {
    H(DOCUMENT
        .with(|d| d.create_element(tag))
        .expect_throw("valid tag"))
}

impl H {
    pub fn cls(self, class: &str) -> H {
        self.0.set_class_name(class);
        self
    }

    pub fn attr(self, name: &str, value: &str) -> H {
        let _ = self.0.set_attribute(name, value);
        self
    }

    pub fn attr_if(self, on: bool, name: &str, value: &str) -> H {
        if on {
            self.attr(name, value)
        } else {
            self
        }
    }

    /// `data-action`: what the delegated click handler does for this element.
    pub fn action(self, action: &str) -> H {
        self.attr("data-action", action)
    }

    /// Appends text (a text node: markup in it stays text).
    pub fn text(self, text: &str) -> H {
        let _ = self.0.append_with_str_1(text);
        self
    }

    pub fn add(self, child: H) -> H {
        let _ = self.0.append_child(&child.0);
        self
    }

    pub fn add_opt(self, child: Option<H>) -> H {
        match child {
            Some(child) => self.add(child),
            None => self,
        }
    }

    pub fn add_all(self, children: impl IntoIterator<Item = H>) -> H {
        for child in children {
            let _ = self.0.append_child(&child.0);
        }
        self
    }

    pub fn el(self) -> Element {
        self.0
    }
}

pub fn button(class: &str, action: &str, label: &str) -> H {
    h("button")
        .attr("type", "button")
        .cls(class)
        .action(action)
        .text(label)
}

/// Replaces an element's children.
pub fn replace(parent: &Element, child: Option<H>) {
    parent.set_text_content(None);
    if let Some(child) = child {
        let _ = parent.append_child(&child.0);
    }
}

pub fn set_style(element: &Element, property: &str, value: &str) {
    if let Some(el) = element.dyn_ref::<HtmlElement>() {
        let _ = el.style().set_property(property, value);
    }
}
