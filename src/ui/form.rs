//! Note and evidence for a new or edited flag.

use factmark_core::model::{Flag, MAX_NOTE_CHARS};
use wasm_bindgen::JsCast;
use web_sys::Element;

use super::dom::{button, h, H};
use crate::i18n::Msg;
use crate::state::{Floating, Form, FormError, FormTarget};
use crate::widget::Ctx;

fn error_msg(error: FormError) -> Msg {
    match error {
        FormError::Evidence => Msg::EvidenceInvalid,
        FormError::NoteTooLong => Msg::NoteTooLong,
        FormError::TooManyEvidence => Msg::TooManyEvidence,
    }
}

fn current(ctx: Ctx) -> Option<Form> {
    ctx.ui.with_untracked(|u| match &u.floating {
        Floating::Form(form) => Some(form.clone()),
        _ => None,
    })
}

/// The form, with its fields' initial values; later typing changes the state, never the
/// fields (which would move the caret).
pub fn build(ctx: Ctx) -> Option<H> {
    let form = current(ctx)?;
    let title = match form.target {
        FormTarget::New { .. } => Msg::FormTitleNew,
        FormTarget::Edit(_) => Msg::FormTitleEdit,
    };
    let radio = |flag: Flag, label: Msg| {
        h("label")
            .cls("fm-radio")
            .add(
                h("input")
                    .attr("type", "radio")
                    .attr("name", "fm-flag")
                    .attr("value", flag.as_str())
                    .attr("data-field", "flag")
                    .attr_if(form.flag == flag, "checked", ""),
            )
            .add(
                h("span")
                    .cls(&format!("fm-chip fm-chip--{}", flag.as_str()))
                    .text(ctx.t(label)),
            )
    };
    let note = h("textarea")
        .attr("id", "fm-note")
        .cls("fm-input")
        .attr("data-field", "note")
        .attr("rows", "3")
        .attr("maxlength", &MAX_NOTE_CHARS.to_string())
        .attr("placeholder", ctx.t(Msg::NotePlaceholder))
        .attr("aria-describedby", "fm-form-error")
        .text(&form.note);
    let evidence = h("input")
        .attr("id", "fm-evidence")
        .cls("fm-input")
        .attr("type", "url")
        .attr("inputmode", "url")
        .attr("data-field", "evidence")
        .attr("autocomplete", "off")
        .attr("spellcheck", "false")
        .attr("placeholder", ctx.t(Msg::EvidencePlaceholder))
        .attr("aria-describedby", "fm-form-error")
        .attr("value", &form.evidence);
    Some(
        h("form")
            .cls("fm-form")
            .attr("role", "dialog")
            .attr("aria-labelledby", "fm-form-title")
            .attr("novalidate", "")
            .add(
                h("h2")
                    .attr("id", "fm-form-title")
                    .cls("fm-title")
                    .text(ctx.t(title)),
            )
            .add(
                h("fieldset")
                    .cls("fm-flags")
                    .add(h("legend").cls("fm-label").text(ctx.t(Msg::FlagKind)))
                    .add(radio(Flag::Unverified, Msg::Unverified))
                    .add(radio(Flag::Fabricated, Msg::Fabricated)),
            )
            .add(
                h("label")
                    .cls("fm-label")
                    .attr("for", "fm-note")
                    .text(ctx.t(Msg::Note)),
            )
            .add(note)
            .add(
                h("label")
                    .cls("fm-label")
                    .attr("for", "fm-evidence")
                    .text(ctx.t(Msg::Evidence)),
            )
            .add(evidence)
            .add(
                h("p")
                    .attr("id", "fm-form-error")
                    .cls("fm-error")
                    .attr("role", "alert"),
            )
            .add(
                h("div")
                    .cls("fm-actions")
                    .add(button("fm-btn", "cancel", ctx.t(Msg::Cancel)))
                    .add(
                        h("button")
                            .attr("type", "submit")
                            .cls("fm-btn fm-btn--primary")
                            .action("save")
                            .text(ctx.t(Msg::Save)),
                    ),
            ),
    )
}

/// Reflects the state's error and flag in the form built earlier.
pub fn update(ctx: Ctx, form_element: &Element) {
    let Some(form) = ctx.ui.with(|u| match &u.floating {
        Floating::Form(form) => Some((form.error, form.flag)),
        _ => None,
    }) else {
        return;
    };
    let (error, flag) = form;
    let find = |selector: &str| form_element.query_selector(selector).ok().flatten();
    if let Some(p) = find(".fm-error") {
        p.set_text_content(error.map(|e| ctx.t(error_msg(e))));
    }
    let invalid = |on: bool| if on { "true" } else { "false" };
    if let Some(note) = find("[data-field=\"note\"]") {
        let _ = note.set_attribute(
            "aria-invalid",
            invalid(error == Some(FormError::NoteTooLong)),
        );
    }
    if let Some(evidence) = find("[data-field=\"evidence\"]") {
        let bad = matches!(
            error,
            Some(FormError::Evidence | FormError::TooManyEvidence)
        );
        let _ = evidence.set_attribute("aria-invalid", invalid(bad));
    }
    if let Some(radio) = find(&format!(
        "[data-field=\"flag\"][value=\"{}\"]",
        flag.as_str()
    )) {
        if let Some(input) = radio.dyn_ref::<web_sys::HtmlInputElement>() {
            input.set_checked(true);
        }
    }
}

pub fn focus_note(form_element: &Element) {
    if let Ok(Some(note)) = form_element.query_selector("[data-field=\"note\"]") {
        if let Some(note) = note.dyn_ref::<web_sys::HtmlElement>() {
            let _ = note.focus();
        }
    }
}
