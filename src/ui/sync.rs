//! Sync with the annotation endpoint as the reader sees it: a connection line in the panel, a
//! state badge on each flag, and the choices a refused or conflicting change offers. Renders
//! nothing when the widget keeps annotations in this browser only.

use factmark_core::outbox::SyncState;
use leptos::prelude::*;

use crate::i18n::Msg;
use crate::store::{Connection, SyncAction};
use crate::store::outbox::ServerSide;
use crate::widget::{act, Ctx};

/// Online/offline, and how many changes wait to be sent.
pub fn connection(ctx: Ctx) -> impl IntoView {
    move || {
        ctx.sync.with(|sync| {
            sync.enabled().then(|| {
                let connection = sync.connection;
                let text = ctx.t(match connection {
                    Connection::Connecting => Msg::SyncConnecting,
                    Connection::Online => Msg::SyncOnline,
                    Connection::Offline => Msg::SyncOffline,
                    Connection::Unreachable => Msg::SyncUnreachable,
                });
                let waiting = (sync.unsent > 0).then(|| ctx.locale.count(Msg::SyncWaiting, sync.unsent));
                view! {
                    <p class="fm-sync" data-connection=connection.as_str() data-unsent=sync.unsent.to_string()>
                        <span class="fm-sync-dot" aria-hidden="true"></span>
                        <span class="fm-sync-text">{text}</span>
                        {waiting.map(|w| view! { <span class="fm-sync-waiting">{w}</span> })}
                    </p>
                }
            })
        })
    }
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
pub fn badge(ctx: Ctx, id: String) -> impl IntoView {
    move || {
        ctx.sync.with(|sync| {
            sync.enabled().then(|| {
                let state = sync.state(&id);
                view! {
                    <span class="fm-sync-badge" data-sync=state.as_str()>{ctx.t(label(&state))}</span>
                }
            })
        })
    }
}

/// The server's message for a refused change and what the reader can do about it.
pub fn actions(ctx: Ctx, id: String) -> impl IntoView {
    move || {
        let id = id.clone();
        ctx.sync.with(|sync| match sync.state(&id) {
            SyncState::Failed { message } => Some(
                view! {
                    <div class="fm-sync-problem" data-id=id.clone()>
                        <p class="fm-sync-message">{message}</p>
                        {button(ctx, &id, SyncAction::Retry, Msg::SyncRetry)}
                    </div>
                }
                .into_any(),
            ),
            SyncState::Conflict => {
                let theirs = match sync.conflicts.get(&id) {
                    Some(ServerSide::Deleted) => ctx.t(Msg::SyncDeletedThere).to_string(),
                    Some(ServerSide::Changed { note }) => {
                        format!("{} {}", ctx.t(Msg::SyncTheirNote), note.clone().unwrap_or_else(|| "—".into()))
                    }
                    None => String::new(),
                };
                Some(
                    view! {
                        <div class="fm-sync-problem" data-id=id.clone()>
                            <p class="fm-sync-message">{theirs}</p>
                            {button(ctx, &id, SyncAction::KeepMine, Msg::SyncKeepMine)}
                            {button(ctx, &id, SyncAction::TakeServer, Msg::SyncTakeServer)}
                        </div>
                    }
                    .into_any(),
                )
            }
            _ => None,
        })
    }
}

fn button(ctx: Ctx, id: &str, action: SyncAction, text: Msg) -> impl IntoView {
    let id = id.to_string();
    let name = match action {
        SyncAction::Retry => "sync-retry",
        SyncAction::KeepMine => "sync-keep-mine",
        SyncAction::TakeServer => "sync-take-server",
    };
    view! {
        <button type="button" class="fm-btn" data-action=name on:click=move |_| {
            act(|w| w.sync_action(&id, action));
        }>{ctx.t(text)}</button>
    }
}
