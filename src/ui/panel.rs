//! The list of the page's flags: count badge, filter, document order, orphans apart.

use factmark_core::model::Flag;
use leptos::prelude::*;

use super::{chip_class, flag_label, format_date};
use crate::i18n::Msg;
use crate::state::{excerpt, Entry, Filter};
use crate::widget::{act, Ctx};

pub fn panel(ctx: Ctx) -> impl IntoView {
    let open = Memo::new(move |_| ctx.ui.with(|u| u.panel_open));
    let count = Memo::new(move |_| ctx.entries.with(|e| e.len()));
    view! {
        <button type="button" class="fm-toggle" data-action="toggle-panel" aria-controls="fm-panel"
            aria-expanded=move || open.get().to_string()
            aria-label=move || format!("{} ({})", ctx.t(Msg::TogglePanel), count.get())
            on:click=move |_| { act(|w| w.toggle_panel()); }>
            <span class="fm-toggle-icon" aria-hidden="true">"⚑"</span>
            <span class="fm-badge" data-count=move || count.get().to_string()>{move || count.get()}</span>
        </button>
        {move || open.get().then(|| contents(ctx))}
    }
}

fn contents(ctx: Ctx) -> impl IntoView {
    let filter = Memo::new(move |_| ctx.ui.with(|u| u.filter));
    let listing = move || ctx.entries.with(|e| {
        let listing = e.listing(filter.get());
        let take = |indices: &[usize]| indices.iter().map(|&i| e.entries()[i].clone()).collect::<Vec<_>>();
        (take(&listing.placed), take(&listing.orphans))
    });
    let filter_button = move |value: Filter, key: &'static str, label: Msg| {
        view! {
            <button type="button" class="fm-filter-btn" data-filter=key
                aria-pressed=move || (filter.get() == value).to_string()
                on:click=move |_| ctx.ui.update(|u| u.filter = value)>
                {ctx.t(label)}
            </button>
        }
    };
    view! {
        <section id="fm-panel" class="fm-panel" aria-label=ctx.t(Msg::PanelLabel)>
            <header class="fm-panel-head">
                <h2 class="fm-title">{move || ctx.locale.count(Msg::CountFlags, ctx.entries.with(|e| e.len()))}</h2>
                <button type="button" class="fm-close" data-action="close-panel" aria-label=ctx.t(Msg::Close)
                    on:click=move |_| { act(|w| w.toggle_panel()); }>"×"</button>
            </header>
            {super::sync::connection(ctx)}
            <div class="fm-filters" role="group" aria-label=ctx.t(Msg::FilterLabel)>
                {filter_button(Filter::All, "all", Msg::FilterAll)}
                {filter_button(Filter::Only(Flag::Unverified), "unverified", Msg::Unverified)}
                {filter_button(Filter::Only(Flag::Fabricated), "fabricated", Msg::Fabricated)}
            </div>
            {move || {
                let (placed, orphans) = listing();
                let empty = placed.is_empty() && orphans.is_empty();
                let empty_msg = if filter.get() == Filter::All { Msg::NoFlags } else { Msg::NoFlagsFiltered };
                view! {
                    {empty.then(|| view! { <p class="fm-muted">{ctx.t(empty_msg)}</p> })}
                    <ol class="fm-list">
                        {placed.into_iter().map(|e| placed_item(ctx, e)).collect_view()}
                    </ol>
                    {(!orphans.is_empty()).then(|| view! {
                        <h3 class="fm-subtitle">{ctx.t(Msg::Orphans)}</h3>
                        <p class="fm-muted">{ctx.t(Msg::OrphanExplained)}</p>
                        <ol class="fm-list fm-list--orphans">
                            {orphans.into_iter().map(|e| orphan_item(ctx, e)).collect_view()}
                        </ol>
                    })}
                }
            }}
            <footer class="fm-panel-foot">
                <button type="button" class="fm-btn" data-action="export" on:click=move |_| download(ctx)>
                    {ctx.t(Msg::Export)}
                </button>
            </footer>
        </section>
    }
}

fn not_saved_badge(ctx: Ctx, entry: &Entry) -> impl IntoView {
    entry.not_saved.map(|_| view! { <span class="fm-warn-badge">{ctx.t(Msg::NotSaved)}</span> })
}

fn placed_item(ctx: Ctx, entry: Entry) -> impl IntoView {
    let flag = entry.annotation.flag();
    let id = entry.annotation.id.clone();
    let quote = entry.annotation.quote().map(|q| excerpt(q, 140)).unwrap_or_default();
    let note = entry.annotation.note().map(|n| excerpt(n, 140));
    view! {
        <li class="fm-item">
            <button type="button" class="fm-item-btn" data-action="show" data-id=id.clone()
                title=ctx.t(Msg::ShowPassage)
                on:click=move |_| {
                    act(|w| {
                        w.show(&id, true);
                        w.focus_soon(".fm-popover");
                    });
                }>
                <span class=chip_class(flag)>{flag_label(ctx.locale, flag)}</span>
                <span class="fm-item-quote">"“"{quote}"”"</span>
                {note.map(|n| view! { <span class="fm-item-note">{n}</span> })}
                {not_saved_badge(ctx, &entry)}
                {super::sync::badge(ctx, entry.annotation.id.clone())}
            </button>
            {super::sync::actions(ctx, entry.annotation.id.clone())}
        </li>
    }
}

fn orphan_item(ctx: Ctx, entry: Entry) -> impl IntoView {
    let flag = entry.annotation.flag();
    let id = entry.annotation.id.clone();
    let (item_id, button_id) = (id.clone(), id.clone());
    let quote = entry.annotation.quote().unwrap_or_default().to_string();
    let note = entry.annotation.note().map(str::to_string);
    let created = entry.annotation.created.clone().unwrap_or_default();
    let date = format_date(&created, ctx.locale);
    view! {
        <li class="fm-item fm-item--orphan" data-id=item_id>
            <span class=chip_class(flag)>{flag_label(ctx.locale, flag)}</span>
            <span class="fm-label">{ctx.t(Msg::OriginalQuote)}</span>
            <blockquote class="fm-quote">{quote}</blockquote>
            {note.map(|n| view! { <p class="fm-note">{n}</p> })}
            <p class="fm-meta"><time datetime=created>{date}</time></p>
            {not_saved_badge(ctx, &entry)}
            {super::sync::badge(ctx, entry.annotation.id.clone())}
            {super::sync::actions(ctx, entry.annotation.id.clone())}
            <button type="button" class="fm-btn fm-btn--danger" data-action="delete" data-id=button_id
                on:click=move |_| { act(|w| w.delete(&id)); }>
                {ctx.t(Msg::Delete)}
            </button>
        </li>
    }
}

/// Saves the page's annotations as a JSON-LD file.
fn download(_: Ctx) {
    act(|w| {
        let Ok(json) = w.export("jsonld") else { return };
        let parts = js_sys::Array::of1(&json.into());
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("application/ld+json");
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
        let document = web_sys::window().and_then(|w| w.document());
        if let Some(link) = document.and_then(|d| d.create_element("a").ok()) {
            let _ = link.set_attribute("href", &url);
            let _ = link.set_attribute("download", "factmark-annotations.jsonld");
            link.unchecked_ref::<web_sys::HtmlElement>().click();
        }
        // Revoked later: revoking at once can cancel the download.
        gloo_timers::callback::Timeout::new(10_000, move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        })
        .forget();
    });
}

use wasm_bindgen::JsCast;
