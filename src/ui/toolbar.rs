//! Beside a fresh selection: "Unverified" / "Fabricated".

use super::dom::{button, h, H};
use crate::i18n::Msg;
use crate::widget::Ctx;

pub fn build(ctx: Ctx) -> H {
    let flag = |action: &str, class: &str, label: Msg, name: Msg| {
        button(class, action, ctx.t(label)).attr("aria-label", ctx.t(name))
    };
    h("div")
        .cls("fm-toolbar")
        .attr("role", "toolbar")
        .attr("aria-label", ctx.t(Msg::ToolbarLabel))
        .attr("title", ctx.t(Msg::ShortcutHint))
        .add(flag(
            "flag-unverified",
            "fm-btn fm-btn--unverified",
            Msg::Unverified,
            Msg::FlagAsUnverified,
        ))
        .add(flag(
            "flag-fabricated",
            "fm-btn fm-btn--fabricated",
            Msg::Fabricated,
            Msg::FlagAsFabricated,
        ))
}
