//! Sync with the annotation endpoint as the reader sees it: a connection line in the panel, a
//! state badge on each flag, and the choices a refused or conflicting change offers. Renders
//! nothing when the widget keeps annotations in this browser only.

use factmark_core::outbox::SyncState;

use super::dom::{button, h, H};
use crate::i18n::Msg;
use crate::store::outbox::ServerSide;
use crate::store::{Connection, SyncView};
use crate::widget::Ctx;

/// Online/offline, and how many changes wait to be sent.
pub fn connection(ctx: Ctx, sync: &SyncView) -> Option<H> {
    if !sync.enabled() {
        return None;
    }
    let connection = sync.connection;
    let text = ctx.t(match connection {
        Connection::Connecting => Msg::SyncConnecting,
        Connection::Online => Msg::SyncOnline,
        Connection::Offline => Msg::SyncOffline,
        Connection::Unreachable => Msg::SyncUnreachable,
    });
    let waiting = (sync.unsent > 0).then(|| {
        h("span")
            .cls("fm-sync-waiting")
            .text(&ctx.locale.count(Msg::SyncWaiting, sync.unsent))
    });
    Some(
        h("p")
            .cls("fm-sync")
            .attr("role", "status")
            .attr("data-connection", connection.as_str())
            .attr("data-unsent", &sync.unsent.to_string())
            .add(h("span").cls("fm-sync-dot").attr("aria-hidden", "true"))
            .add(h("span").cls("fm-sync-text").text(text))
            .add_opt(waiting),
    )
}

fn label(state: &SyncState) -> Msg {
    match state {
        SyncState::SavedLocally => Msg::SyncLocal,
        SyncState::Sending => Msg::SyncSending,
        SyncState::Saved => Msg::SyncSaved,
        SyncState::Failed { .. } => Msg::SyncFailed,
        SyncState::Conflict => Msg::SyncConflict,
    }
}

/// One flag's state: saved locally, sending, saved on the server, refused, changed elsewhere.
pub fn badge(ctx: Ctx, sync: &SyncView, id: &str) -> Option<H> {
    if !sync.enabled() {
        return None;
    }
    let state = sync.state(id);
    Some(
        h("span")
            .cls("fm-sync-badge")
            .attr("data-sync", state.as_str())
            .text(ctx.t(label(&state))),
    )
}

/// The server's message for a refused change and what the reader can do about it.
pub fn actions(ctx: Ctx, sync: &SyncView, id: &str) -> Option<H> {
    let problem = |message: &str| {
        h("div")
            .cls("fm-sync-problem")
            .attr("data-id", id)
            .add(h("p").cls("fm-sync-message").text(message))
    };
    let choice =
        |action: &str, text: Msg| button("fm-btn", action, ctx.t(text)).attr("data-id", id);
    match sync.state(id) {
        SyncState::Failed { message } => {
            Some(problem(&message).add(choice("sync-retry", Msg::SyncRetry)))
        }
        SyncState::Conflict => {
            let theirs = match sync.conflicts.get(id) {
                Some(ServerSide::Deleted) => ctx.t(Msg::SyncDeletedThere).to_string(),
                Some(ServerSide::Changed { note }) => {
                    format!(
                        "{} {}",
                        ctx.t(Msg::SyncTheirNote),
                        note.clone().unwrap_or_else(|| "—".into())
                    )
                }
                None => String::new(),
            };
            Some(
                problem(&theirs)
                    .add(choice("sync-keep-mine", Msg::SyncKeepMine))
                    .add(choice("sync-take-server", Msg::SyncTakeServer)),
            )
        }
        _ => None,
    }
}
