//! Every string the reader sees, in each supported language.
//!
//! Lookup is a `match` per language so a missing translation is a compile error, not a blank.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
    Fr,
}

impl Locale {
    /// Picks the best supported language for a BCP 47 tag such as `fr-CA`; English otherwise.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Locale::En),
            "fr" => Some(Locale::Fr),
            _ => None,
        }
    }

    /// First supported tag in order of preference (configuration, page language, browser).
    pub fn negotiate<'a>(tags: impl IntoIterator<Item = &'a str>) -> Locale {
        tags.into_iter()
            .find_map(Locale::from_tag)
            .unwrap_or_default()
    }

    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
        }
    }

    pub fn text(self, msg: Msg) -> &'static str {
        match self {
            Locale::En => en(msg),
            Locale::Fr => fr(msg),
        }
    }

    /// A string with `{n}` replaced by a count, in the singular form where the language uses it
    /// (English: 1; French: 0 and 1).
    pub fn count(self, msg: Msg, n: usize) -> String {
        let singular = match self {
            Locale::En => n == 1,
            Locale::Fr => n <= 1,
        };
        let msg = match (msg, singular) {
            (Msg::CountFlags, true) => Msg::CountFlagsOne,
            _ => msg,
        };
        self.text(msg).replace("{n}", &n.to_string())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    ToolbarLabel,
    Unverified,
    Fabricated,
    FlagAsUnverified,
    FlagAsFabricated,
    FormTitleNew,
    FormTitleEdit,
    FlagKind,
    Note,
    NotePlaceholder,
    Evidence,
    EvidencePlaceholder,
    EvidenceInvalid,
    NoteTooLong,
    TooManyEvidence,
    Save,
    Cancel,
    Close,
    Edit,
    Delete,
    PopoverLabel,
    Flagged,
    Edited,
    EvidenceLink,
    PanelLabel,
    TogglePanel,
    FilterLabel,
    FilterAll,
    NoFlags,
    NoFlagsFiltered,
    ShowPassage,
    Orphans,
    OrphanExplained,
    OriginalQuote,
    ApproximateMatch,
    NotSaved,
    Retry,
    Export,
    SavedStatus,
    NotSavedQuota,
    NotSavedOther,
    DeletedStatus,
    Quarantined,
    StorageUnavailable,
    StorageRefusedOverwrite,
    ShortcutHint,
    NoSelection,
    /// `{n}` flagged passages
    CountFlags,
    CountFlagsOne,
    // Sync with an annotation endpoint.
    SyncConnecting,
    SyncOnline,
    SyncOffline,
    SyncUnreachable,
    /// `{n}` changes waiting to be sent
    SyncWaiting,
    SyncLocal,
    SyncSending,
    SyncSaved,
    SyncFailed,
    SyncConflict,
    SyncRetry,
    SyncKeepMine,
    SyncTakeServer,
    SyncTheirNote,
    SyncDeletedThere,
}

fn en(msg: Msg) -> &'static str {
    use Msg::*;
    match msg {
        ToolbarLabel => "Flag the selected passage",
        Unverified => "Unverified",
        Fabricated => "Fabricated",
        FlagAsUnverified => "Flag as unverified",
        FlagAsFabricated => "Flag as fabricated",
        FormTitleNew => "Flag this passage",
        FormTitleEdit => "Edit this flag",
        FlagKind => "Flag",
        Note => "Note",
        NotePlaceholder => "What is wrong with this passage?",
        Evidence => "Evidence (web address, optional)",
        EvidencePlaceholder => "https://",
        EvidenceInvalid => "Evidence must be a web address starting with http:// or https://.",
        NoteTooLong => "The note is too long.",
        TooManyEvidence => "Too many evidence links.",
        Save => "Save",
        Cancel => "Cancel",
        Close => "Close",
        Edit => "Edit",
        Delete => "Delete",
        PopoverLabel => "Flagged passage",
        Flagged => "Flagged",
        Edited => "edited",
        EvidenceLink => "Evidence",
        PanelLabel => "Flagged passages on this page",
        TogglePanel => "Show or hide the flagged passages",
        FilterLabel => "Show",
        FilterAll => "All",
        NoFlags => "No passage flagged yet. Select text in the article to flag it.",
        NoFlagsFiltered => "No passage with this flag.",
        ShowPassage => "Show the passage",
        Orphans => "Passages not found",
        OrphanExplained => "The passage changed or was removed.",
        OriginalQuote => "Original passage",
        ApproximateMatch => "approximate match",
        NotSaved => "Not saved",
        Retry => "Try saving again",
        Export => "Export (JSON-LD)",
        SavedStatus => "Flag saved.",
        NotSavedQuota => "Browser storage is full: this flag is kept on this page but not saved.",
        NotSavedOther => "This flag could not be saved; it is kept on this page until you leave it.",
        DeletedStatus => "Flag deleted.",
        Quarantined => "Some stored flags for this page could not be read; they were set aside, not deleted.",
        StorageUnavailable => "Browser storage is unavailable: flags will not be kept after this page closes.",
        StorageRefusedOverwrite => "Stored data for this page could not be read or set aside, so it was left untouched and this change was not saved.",
        ShortcutHint => "Alt+Shift+F flags the selection",
        NoSelection => "Select a passage of the article first.",
        CountFlags => "{n} flagged passages",
        CountFlagsOne => "{n} flagged passage",
        SyncConnecting => "Connecting to the annotation server…",
        SyncOnline => "Connected to the annotation server",
        SyncOffline => "Offline: flags are kept in this browser and sent when you are back online",
        SyncUnreachable => "Annotation server unreachable: flags are kept in this browser and sent later",
        SyncWaiting => "{n} waiting to be sent",
        SyncLocal => "Saved in this browser, not sent yet",
        SyncSending => "Sending…",
        SyncSaved => "Saved on the server",
        SyncFailed => "Refused by the server",
        SyncConflict => "Changed elsewhere",
        SyncRetry => "Send again",
        SyncKeepMine => "Keep mine",
        SyncTakeServer => "Use the server’s",
        SyncTheirNote => "Server’s version:",
        SyncDeletedThere => "Deleted on the server.",
    }
}

fn fr(msg: Msg) -> &'static str {
    use Msg::*;
    match msg {
        ToolbarLabel => "Signaler le passage sélectionné",
        Unverified => "Non vérifié",
        Fabricated => "Inventé",
        FlagAsUnverified => "Signaler comme non vérifié",
        FlagAsFabricated => "Signaler comme inventé",
        FormTitleNew => "Signaler ce passage",
        FormTitleEdit => "Modifier ce signalement",
        FlagKind => "Signalement",
        Note => "Note",
        NotePlaceholder => "Qu’est-ce qui ne va pas dans ce passage ?",
        Evidence => "Preuve (adresse web, facultatif)",
        EvidencePlaceholder => "https://",
        EvidenceInvalid => "La preuve doit être une adresse web commençant par http:// ou https://.",
        NoteTooLong => "La note est trop longue.",
        TooManyEvidence => "Trop de liens de preuve.",
        Save => "Enregistrer",
        Cancel => "Annuler",
        Close => "Fermer",
        Edit => "Modifier",
        Delete => "Supprimer",
        PopoverLabel => "Passage signalé",
        Flagged => "Signalé",
        Edited => "modifié",
        EvidenceLink => "Preuve",
        PanelLabel => "Passages signalés sur cette page",
        TogglePanel => "Afficher ou masquer les passages signalés",
        FilterLabel => "Afficher",
        FilterAll => "Tous",
        NoFlags => "Aucun passage signalé. Sélectionnez du texte de l’article pour le signaler.",
        NoFlagsFiltered => "Aucun passage avec ce signalement.",
        ShowPassage => "Montrer le passage",
        Orphans => "Passages introuvables",
        OrphanExplained => "Le passage a changé ou a été supprimé.",
        OriginalQuote => "Passage d’origine",
        ApproximateMatch => "correspondance approximative",
        NotSaved => "Non enregistré",
        Retry => "Réessayer l’enregistrement",
        Export => "Exporter (JSON-LD)",
        SavedStatus => "Signalement enregistré.",
        NotSavedQuota => "Le stockage du navigateur est plein : ce signalement reste sur cette page mais n’est pas enregistré.",
        NotSavedOther => "Ce signalement n’a pas pu être enregistré ; il reste sur cette page jusqu’à ce que vous la quittiez.",
        DeletedStatus => "Signalement supprimé.",
        Quarantined => "Des signalements enregistrés pour cette page étaient illisibles ; ils ont été mis de côté, pas supprimés.",
        StorageUnavailable => "Le stockage du navigateur est indisponible : les signalements ne seront pas conservés après la fermeture de la page.",
        StorageRefusedOverwrite => "Les données enregistrées pour cette page étaient illisibles et n’ont pas pu être mises de côté ; elles n’ont pas été modifiées et ce changement n’a pas été enregistré.",
        ShortcutHint => "Alt+Maj+F signale la sélection",
        NoSelection => "Sélectionnez d’abord un passage de l’article.",
        CountFlags => "{n} passages signalés",
        CountFlagsOne => "{n} passage signalé",
        SyncConnecting => "Connexion au serveur d’annotations…",
        SyncOnline => "Connecté au serveur d’annotations",
        SyncOffline => "Hors ligne : les signalements sont gardés dans ce navigateur et envoyés au retour de la connexion",
        SyncUnreachable => "Serveur d’annotations injoignable : les signalements sont gardés dans ce navigateur et envoyés plus tard",
        SyncWaiting => "{n} en attente d’envoi",
        SyncLocal => "Enregistré dans ce navigateur, pas encore envoyé",
        SyncSending => "Envoi…",
        SyncSaved => "Enregistré sur le serveur",
        SyncFailed => "Refusé par le serveur",
        SyncConflict => "Modifié ailleurs",
        SyncRetry => "Renvoyer",
        SyncKeepMine => "Garder ma version",
        SyncTakeServer => "Prendre celle du serveur",
        SyncTheirNote => "Version du serveur :",
        SyncDeletedThere => "Supprimé sur le serveur.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_pick_the_primary_language() {
        assert_eq!(Locale::from_tag("fr-CA"), Some(Locale::Fr));
        assert_eq!(Locale::from_tag("FR"), Some(Locale::Fr));
        assert_eq!(Locale::from_tag("en_GB"), Some(Locale::En));
        assert_eq!(Locale::from_tag("de"), None);
        assert_eq!(Locale::from_tag(""), None);
    }

    #[test]
    fn negotiation_takes_the_first_supported_tag() {
        assert_eq!(Locale::negotiate(["de-DE", "fr", "en"]), Locale::Fr);
        assert_eq!(Locale::negotiate(["", "es"]), Locale::En);
        assert_eq!(Locale::negotiate([]), Locale::En);
    }

    #[test]
    fn languages_differ_and_counts_are_filled_in() {
        assert_eq!(Locale::En.text(Msg::Fabricated), "Fabricated");
        assert_eq!(Locale::Fr.text(Msg::Fabricated), "Inventé");
        assert_eq!(Locale::Fr.count(Msg::CountFlags, 3), "3 passages signalés");
        assert_eq!(Locale::Fr.count(Msg::CountFlags, 0), "0 passage signalé");
        assert_eq!(Locale::En.count(Msg::CountFlags, 1), "1 flagged passage");
        assert_eq!(Locale::En.count(Msg::CountFlags, 0), "0 flagged passages");
        assert!(!Locale::En.text(Msg::OrphanExplained).contains('{'));
    }
}
