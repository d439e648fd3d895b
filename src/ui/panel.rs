//! The list of the page's flags: count badge, filter, document order, orphans apart.

use factmark_core::model::Flag;
use web_sys::Element;

use super::dom::{button, h, H};
use super::{chip, filter_value, sync, time};
use crate::i18n::Msg;
use crate::state::{excerpt, Annotations, Entry, Filter};
use crate::store::SyncView;
use crate::widget::Ctx;

/// The always-visible button that opens the panel, with the count badge.
pub fn toggle(ctx: Ctx) -> Element {
    button("fm-toggle", "toggle-panel", "")
        .attr("aria-controls", "fm-panel")
        .attr("aria-expanded", "false")
        .add(
            h("span")
                .cls("fm-toggle-icon")
                .attr("aria-hidden", "true")
                .text("⚑"),
        )
        .add(h("span").cls("fm-badge").text("0"))
        .attr("aria-label", ctx.t(Msg::TogglePanel))
        .el()
}

pub fn update_toggle(ctx: Ctx, toggle: &Element, count: usize, open: bool) {
    let count = count.to_string();
    let _ = toggle.set_attribute("aria-expanded", if open { "true" } else { "false" });
    let _ = toggle.set_attribute(
        "aria-label",
        &format!("{} ({count})", ctx.t(Msg::TogglePanel)),
    );
    if let Ok(Some(badge)) = toggle.query_selector(".fm-badge") {
        badge.set_text_content(Some(&count));
        let _ = badge.set_attribute("data-count", &count);
    }
}

pub fn build(ctx: Ctx, entries: &Annotations, filter: Filter, sync: &SyncView) -> H {
    let listing = entries.listing(filter);
    let filter_button = |value: Filter, label: Msg| {
        button("fm-filter-btn", "filter", ctx.t(label))
            .attr("data-value", filter_value(value))
            .attr(
                "aria-pressed",
                if filter == value { "true" } else { "false" },
            )
    };
    let empty = listing.placed.is_empty() && listing.orphans.is_empty();
    let empty_msg = if filter == Filter::All {
        Msg::NoFlags
    } else {
        Msg::NoFlagsFiltered
    };
    let all = entries.entries();
    h("section")
        .attr("id", "fm-panel")
        .cls("fm-panel")
        .attr("aria-label", ctx.t(Msg::PanelLabel))
        .add(
            h("header")
                .cls("fm-panel-head")
                .add(
                    h("h2")
                        .cls("fm-title")
                        .text(&ctx.locale.count(Msg::CountFlags, entries.len())),
                )
                .add(button("fm-close", "toggle-panel", "×").attr("aria-label", ctx.t(Msg::Close))),
        )
        .add_opt(sync::connection(ctx, sync))
        .add(
            h("div")
                .cls("fm-filters")
                .attr("role", "group")
                .attr("aria-label", ctx.t(Msg::FilterLabel))
                .add(filter_button(Filter::All, Msg::FilterAll))
                .add(filter_button(
                    Filter::Only(Flag::Unverified),
                    Msg::Unverified,
                ))
                .add(filter_button(
                    Filter::Only(Flag::Fabricated),
                    Msg::Fabricated,
                )),
        )
        .add_opt(empty.then(|| h("p").cls("fm-muted").text(ctx.t(empty_msg))))
        .add(
            h("ol")
                .cls("fm-list")
                .add_all(listing.placed.iter().map(|&i| placed(ctx, &all[i], sync))),
        )
        .add_opt((!listing.orphans.is_empty()).then(|| {
            h("div")
                .cls("fm-orphans")
                .add(h("h3").cls("fm-subtitle").text(ctx.t(Msg::Orphans)))
                .add(h("p").cls("fm-muted").text(ctx.t(Msg::OrphanExplained)))
                .add(
                    h("ol")
                        .cls("fm-list fm-list--orphans")
                        .add_all(listing.orphans.iter().map(|&i| orphan(ctx, &all[i], sync))),
                )
        }))
        .add(
            h("footer")
                .cls("fm-panel-foot")
                .add(button("fm-btn", "export", ctx.t(Msg::Export))),
        )
}

fn not_saved(ctx: Ctx, entry: &Entry) -> Option<H> {
    entry
        .not_saved
        .map(|_| h("span").cls("fm-warn-badge").text(ctx.t(Msg::NotSaved)))
}

fn placed(ctx: Ctx, entry: &Entry, sync: &SyncView) -> H {
    let annotation = &entry.annotation;
    let id = annotation.id.as_str();
    let quote = excerpt(annotation.quote().unwrap_or_default(), 140);
    h("li")
        .cls("fm-item")
        .add(
            h("button")
                .attr("type", "button")
                .cls("fm-item-btn")
                .action("show")
                .attr("data-id", id)
                .attr("title", ctx.t(Msg::ShowPassage))
                .add(chip(ctx.locale, annotation.flag()))
                .add(
                    h("span")
                        .cls("fm-item-quote")
                        .text("“")
                        .text(&quote)
                        .text("”"),
                )
                .add_opt(
                    annotation
                        .note()
                        .map(|n| h("span").cls("fm-item-note").text(&excerpt(n, 140))),
                )
                .add_opt(not_saved(ctx, entry))
                .add_opt(sync::badge(ctx, sync, id)),
        )
        .add_opt(sync::actions(ctx, sync, id))
}

fn orphan(ctx: Ctx, entry: &Entry, sync: &SyncView) -> H {
    let annotation = &entry.annotation;
    let id = annotation.id.as_str();
    h("li")
        .cls("fm-item fm-item--orphan")
        .attr("data-id", id)
        .add(chip(ctx.locale, annotation.flag()))
        .add(h("span").cls("fm-label").text(ctx.t(Msg::OriginalQuote)))
        .add(
            h("blockquote")
                .cls("fm-quote")
                .text(annotation.quote().unwrap_or_default()),
        )
        .add_opt(annotation.note().map(|n| h("p").cls("fm-note").text(n)))
        .add(h("p").cls("fm-meta").add(time(
            annotation.created.as_deref().unwrap_or_default(),
            ctx.locale,
        )))
        .add_opt(not_saved(ctx, entry))
        .add_opt(sync::badge(ctx, sync, id))
        .add_opt(sync::actions(ctx, sync, id))
        .add(button("fm-btn fm-btn--danger", "delete", ctx.t(Msg::Delete)).attr("data-id", id))
}
