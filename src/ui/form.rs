//! Note and evidence for a new or edited flag.

use factmark_core::model::{Flag, MAX_NOTE_CHARS};
use leptos::prelude::*;

use super::{bottom, placement, px, top};
use crate::i18n::Msg;
use crate::state::{Floating, FormError, FormTarget};
use crate::widget::{act, Ctx};

fn error_msg(error: FormError) -> Msg {
    match error {
        FormError::Evidence => Msg::EvidenceInvalid,
        FormError::NoteTooLong => Msg::NoteTooLong,
        FormError::TooManyEvidence => Msg::TooManyEvidence,
    }
}

pub fn form(ctx: Ctx) -> impl IntoView {
    // Field values are set once; typing updates the state, never the other way round (that
    // would move the caret).
    let Some(initial) = ctx.ui.with_untracked(|u| match &u.floating {
        Floating::Form(form) => Some(form.clone()),
        _ => None,
    }) else {
        return ().into_any();
    };
    let at = placement(ctx, (320.0, 320.0), false);
    let error = move || {
        ctx.ui.with(|u| match &u.floating {
            Floating::Form(form) => form.error,
            _ => None,
        })
    };
    let flag = move || {
        ctx.ui.with(|u| match &u.floating {
            Floating::Form(form) => Some(form.flag),
            _ => None,
        })
    };
    let set_flag = move |f: Flag| {
        ctx.ui.update(|u| {
            if let Some(form) = u.form_mut() {
                form.flag = f;
            }
        })
    };
    let note_ref = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(note) = note_ref.get() {
            let _ = note.focus();
        }
    });
    let title = match initial.target {
        FormTarget::New { .. } => ctx.t(Msg::FormTitleNew),
        FormTarget::Edit(_) => ctx.t(Msg::FormTitleEdit),
    };
    let radio = move |f: Flag, value: &'static str, label: Msg| {
        view! {
            <label class="fm-radio">
                <input type="radio" name="fm-flag" value=value data-field="flag"
                    prop:checked=move || flag() == Some(f) on:change=move |_| set_flag(f) />
                <span class=format!("fm-chip fm-chip--{value}")>{ctx.t(label)}</span>
            </label>
        }
    };
    view! {
        <form class="fm-form" role="dialog" aria-labelledby="fm-form-title" novalidate
            style:left=move || px(at.get().left) style:top=top(at) style:bottom=bottom(at)
            style:max-height=move || px(at.get().max_height)
            on:submit=move |ev| {
                ev.prevent_default();
                act(|w| w.save_form());
            }>
            <h2 id="fm-form-title" class="fm-title">{title}</h2>
            <fieldset class="fm-flags">
                <legend class="fm-label">{ctx.t(Msg::FlagKind)}</legend>
                {radio(Flag::Unverified, "unverified", Msg::Unverified)}
                {radio(Flag::Fabricated, "fabricated", Msg::Fabricated)}
            </fieldset>
            <label class="fm-label" for="fm-note">{ctx.t(Msg::Note)}</label>
            <textarea id="fm-note" class="fm-input" data-field="note" rows="3" node_ref=note_ref
                maxlength=MAX_NOTE_CHARS.to_string() placeholder=ctx.t(Msg::NotePlaceholder)
                aria-invalid=move || (error() == Some(FormError::NoteTooLong)).to_string()
                prop:value=initial.note.clone()
                on:input=move |ev| ctx.ui.update(|u| u.type_note(event_target_value(&ev)))
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                        ev.prevent_default();
                        act(|w| w.save_form());
                    }
                }></textarea>
            <label class="fm-label" for="fm-evidence">{ctx.t(Msg::Evidence)}</label>
            <input id="fm-evidence" class="fm-input" type="url" inputmode="url" data-field="evidence"
                autocomplete="off" spellcheck="false" placeholder=ctx.t(Msg::EvidencePlaceholder)
                aria-describedby="fm-form-error"
                aria-invalid=move || matches!(error(), Some(FormError::Evidence | FormError::TooManyEvidence)).to_string()
                prop:value=initial.evidence.clone()
                on:input=move |ev| ctx.ui.update(|u| u.type_evidence(event_target_value(&ev)))
                on:blur=move |_| ctx.ui.update(|u| u.leave_evidence()) />
            <p id="fm-form-error" class="fm-error" role="alert">{move || error().map(|e| ctx.t(error_msg(e)))}</p>
            <div class="fm-actions">
                <button type="button" class="fm-btn" data-action="cancel" on:click=move |_| { act(|w| w.dismiss()); }>
                    {ctx.t(Msg::Cancel)}
                </button>
                <button type="submit" class="fm-btn fm-btn--primary" data-action="save">{ctx.t(Msg::Save)}</button>
            </div>
        </form>
    }
    .into_any()
}
