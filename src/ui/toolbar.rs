//! Beside a fresh selection: "Unverified" / "Fabricated".

use factmark_core::model::Flag;
use leptos::prelude::*;

use super::{bottom, placement, px, top};
use crate::i18n::Msg;
use crate::widget::{act, Ctx};

pub fn toolbar(ctx: Ctx) -> impl IntoView {
    let at = placement(ctx, (230.0, 40.0), true);
    let button = move |flag: Flag, action: &'static str, label: Msg, name: Msg, class: &'static str| {
        view! {
            <button type="button" class=class data-action=action aria-label=ctx.t(name)
                on:click=move |_| { act(|w| w.choose(flag)); }>
                {ctx.t(label)}
            </button>
        }
    };
    view! {
        // mousedown would collapse the page selection and move focus: keep both.
        <div class="fm-toolbar" role="toolbar" aria-label=ctx.t(Msg::ToolbarLabel) title=ctx.t(Msg::ShortcutHint)
            style:left=move || px(at.get().left) style:top=top(at) style:bottom=bottom(at)
            on:mousedown=|ev| ev.prevent_default()>
            {button(Flag::Unverified, "flag-unverified", Msg::Unverified, Msg::FlagAsUnverified, "fm-btn fm-btn--unverified")}
            {button(Flag::Fabricated, "flag-fabricated", Msg::Fabricated, Msg::FlagAsFabricated, "fm-btn fm-btn--fabricated")}
        </div>
    }
}
