//! One flagged passage: its flag, note (as text), evidence, date; Edit and Delete.

use factmark_core::model::validate_evidence_url;
use leptos::prelude::*;

use super::{bottom, chip_class, flag_label, format_date, placement, px, top};
use crate::i18n::Msg;
use crate::state::{excerpt, Entry, Placement};
use crate::widget::{act, Ctx};

pub fn popover(ctx: Ctx, id: String) -> impl IntoView {
    let at = placement(ctx, (320.0, 220.0), false);
    let body = move || {
        ctx.entries.with(|e| e.get(&id).cloned()).map(|entry| details(ctx, entry))
    };
    view! {
        <div class="fm-popover" role="dialog" aria-label=ctx.t(Msg::PopoverLabel) tabindex="-1"
            style:left=move || px(at.get().left) style:top=top(at) style:bottom=bottom(at)
            style:max-height=move || px(at.get().max_height)>
            {body}
        </div>
    }
}

fn details(ctx: Ctx, entry: Entry) -> impl IntoView {
    let annotation = entry.annotation;
    let flag = annotation.flag();
    let id = annotation.id.clone();
    let (edit_id, delete_id) = (id.clone(), id.clone());
    let note = annotation.note().map(str::to_string);
    // Evidence was checked on input and on import; checked again before it becomes a link.
    let evidence: Vec<String> =
        annotation.evidence().into_iter().filter(|u| validate_evidence_url(u).is_ok()).map(str::to_string).collect();
    let created = annotation.created.clone().unwrap_or_default();
    let date = format_date(&created, ctx.locale);
    let edited = annotation.modified.as_ref().filter(|m| **m != created).map(|_| ctx.t(Msg::Edited));
    let fuzzy = matches!(entry.placement, Placement::Fuzzy { .. });
    let orphan = matches!(entry.placement, Placement::Orphan(_));
    let quote = annotation.quote().map(|q| excerpt(q, 200));
    view! {
        <div class="fm-head">
            <span class=chip_class(flag)>{flag_label(ctx.locale, flag)}</span>
            <button type="button" class="fm-close" data-action="close" aria-label=ctx.t(Msg::Close)
                on:click=move |_| { act(|w| w.dismiss()); }>"×"</button>
        </div>
        {fuzzy.then(|| view! { <p class="fm-muted">{ctx.t(Msg::ApproximateMatch)}</p> })}
        {orphan.then(|| view! {
            <p class="fm-muted">{ctx.t(Msg::OrphanExplained)}</p>
            <blockquote class="fm-quote">{quote.clone()}</blockquote>
        })}
        {note.map(|n| view! { <p class="fm-note">{n}</p> })}
        {(!evidence.is_empty()).then(|| view! {
            <ul class="fm-evidence" aria-label=ctx.t(Msg::EvidenceLink)>
                {evidence.into_iter().map(|url| {
                    let href = url.clone();
                    view! { <li><a href=href target="_blank" rel="noopener noreferrer nofollow ugc">{url}</a></li> }
                }).collect_view()}
            </ul>
        })}
        <p class="fm-meta">
            {ctx.t(Msg::Flagged)}" " <time datetime=created>{date}</time>
            {edited.map(|e| format!(" · {e}"))}
        </p>
        {entry.not_saved.map(|_| view! {
            <p class="fm-warn">
                {ctx.t(Msg::NotSaved)}" "
                <button type="button" class="fm-link" data-action="retry" on:click=move |_| { act(|w| w.retry_unsaved()); }>
                    {ctx.t(Msg::Retry)}
                </button>
            </p>
        })}
        <div class="fm-actions">
            <button type="button" class="fm-btn" data-action="edit" on:click=move |_| { act(|w| w.edit(&edit_id)); }>
                {ctx.t(Msg::Edit)}
            </button>
            <button type="button" class="fm-btn fm-btn--danger" data-action="delete"
                on:click=move |_| { act(|w| w.delete(&delete_id)); }>
                {ctx.t(Msg::Delete)}
            </button>
        </div>
    }
}
