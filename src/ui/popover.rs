//! One flagged passage: its flag, note (as text), evidence, date; Edit and Delete.

use factmark_core::model::validate_evidence_url;

use super::dom::{button, h, H};
use super::{chip, sync, time};
use crate::i18n::Msg;
use crate::state::{excerpt, Entry, Placement};
use crate::store::SyncView;
use crate::widget::Ctx;

pub fn build(ctx: Ctx, entry: &Entry, sync: &SyncView) -> H {
    let annotation = &entry.annotation;
    let id = annotation.id.as_str();
    let created = annotation.created.clone().unwrap_or_default();
    let edited = annotation.modified.as_ref().is_some_and(|m| *m != created);
    // Evidence was checked on input and on import; checked again before it becomes a link.
    let links = annotation
        .evidence()
        .into_iter()
        .filter(|url| validate_evidence_url(url).is_ok())
        .map(|url| {
            h("li").add(
                h("a")
                    .attr("href", url)
                    .attr("target", "_blank")
                    .attr("rel", "noopener noreferrer nofollow ugc")
                    .text(url),
            )
        });
    let evidence: Vec<H> = links.collect();
    let orphan = matches!(entry.placement, Placement::Orphan(_));
    h("div")
        .cls("fm-popover")
        .attr("role", "dialog")
        .attr("aria-label", ctx.t(Msg::PopoverLabel))
        .attr("tabindex", "-1")
        .attr("data-id", id)
        .add(
            h("div")
                .cls("fm-head")
                .add(chip(ctx.locale, annotation.flag()))
                .add(button("fm-close", "close", "×").attr("aria-label", ctx.t(Msg::Close))),
        )
        .add_opt(
            matches!(entry.placement, Placement::Fuzzy { .. })
                .then(|| h("p").cls("fm-muted").text(ctx.t(Msg::ApproximateMatch))),
        )
        .add_opt(orphan.then(|| h("p").cls("fm-muted").text(ctx.t(Msg::OrphanExplained))))
        .add_opt(orphan.then(|| {
            h("blockquote")
                .cls("fm-quote")
                .text(&excerpt(annotation.quote().unwrap_or_default(), 200))
        }))
        .add_opt(
            annotation
                .note()
                .map(|note| h("p").cls("fm-note").text(note)),
        )
        .add_opt((!evidence.is_empty()).then(|| {
            h("ul")
                .cls("fm-evidence")
                .attr("aria-label", ctx.t(Msg::EvidenceLink))
                .add_all(evidence)
        }))
        .add(
            h("p")
                .cls("fm-meta")
                .text(ctx.t(Msg::Flagged))
                .text(" ")
                .add(time(&created, ctx.locale))
                .text(if edited { " · " } else { "" })
                .text(if edited { ctx.t(Msg::Edited) } else { "" }),
        )
        .add_opt(entry.not_saved.map(|_| {
            h("p")
                .cls("fm-warn")
                .text(ctx.t(Msg::NotSaved))
                .text(" ")
                .add(button("fm-link", "retry", ctx.t(Msg::Retry)))
        }))
        .add_opt(sync::badge(ctx, sync, id))
        .add_opt(sync::actions(ctx, sync, id))
        .add(
            h("div")
                .cls("fm-actions")
                .add(button("fm-btn", "edit", ctx.t(Msg::Edit)).attr("data-id", id))
                .add(
                    button("fm-btn fm-btn--danger", "delete", ctx.t(Msg::Delete))
                        .attr("data-id", id),
                ),
        )
}
