//! The page's annotations, where each one sits in the text, and what the reader's UI shows.
//! Plain Rust types with no browser in them: the DOM layer feeds them and renders them.

use factmark_core::anchor::{Method, OrphanReason, Resolution, Span};
use factmark_core::model::{validate_evidence_url, Annotation, Flag, Selectors, MAX_NOTE_CHARS};

/// Where an annotation is in the current page text.
#[derive(Clone, Debug, PartialEq)]
pub enum Placement {
    /// Found where the selectors say (position or exact quote).
    Anchored { start: usize, end: usize },
    /// Found by approximate matching: the passage was edited a little.
    Fuzzy { start: usize, end: usize },
    /// Not found with confidence; kept and listed, never moved to a guess.
    Orphan(OrphanReason),
}

impl Placement {
    pub fn from_resolution(resolution: &Resolution) -> Placement {
        match resolution {
            Resolution::Anchored(a) if a.method == Method::Fuzzy => Placement::Fuzzy { start: a.start, end: a.end },
            Resolution::Anchored(a) => Placement::Anchored { start: a.start, end: a.end },
            Resolution::Orphan(o) => Placement::Orphan(o.reason.clone()),
        }
    }

    pub fn status(&self) -> &'static str {
        match self {
            Placement::Anchored { .. } => "anchored",
            Placement::Fuzzy { .. } => "fuzzy",
            Placement::Orphan(_) => "orphan",
        }
    }

    pub fn span(&self) -> Option<Span> {
        match *self {
            Placement::Anchored { start, end } | Placement::Fuzzy { start, end } => Some(Span { start, end }),
            Placement::Orphan(_) => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotSaved {
    /// The browser's storage quota is exhausted.
    Quota,
    /// Stored data could not be read nor moved aside, so it was not overwritten.
    Refused,
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub annotation: Annotation,
    pub placement: Placement,
    /// `Some` while the annotation exists only in this page's memory.
    pub not_saved: Option<NotSaved>,
}

impl Entry {
    pub fn id(&self) -> &str {
        &self.annotation.id
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    #[default]
    All,
    Only(Flag),
}

impl Filter {
    pub fn admits(self, annotation: &Annotation) -> bool {
        match self {
            Filter::All => true,
            Filter::Only(flag) => annotation.flag() == Some(flag),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub total: usize,
    pub anchored: usize,
    pub fuzzy: usize,
    pub orphan: usize,
}

/// The panel's two lists, as indices into [`Annotations::entries`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// Found in the text, in document order.
    pub placed: Vec<usize>,
    /// Not found, oldest first.
    pub orphans: Vec<usize>,
}

/// What an external change (another tab, a server) did to the set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Merge {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
}

/// The page's annotations, in the order they were first seen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Annotations {
    entries: Vec<Entry>,
}

impl Annotations {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.id() == id)
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id() == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.id() == id)
    }

    /// Inserts or replaces by id; true when it was new.
    pub fn upsert(&mut self, entry: Entry) -> bool {
        match self.position(entry.id()) {
            Some(i) => {
                self.entries[i] = entry;
                false
            }
            None => {
                self.entries.push(entry);
                true
            }
        }
    }

    pub fn remove(&mut self, id: &str) -> Option<Entry> {
        let i = self.position(id)?;
        Some(self.entries.remove(i))
    }

    pub fn annotations(&self) -> impl Iterator<Item = &Annotation> {
        self.entries.iter().map(|e| &e.annotation)
    }

    /// Replaces placements after the page text was re-read; `placements` follows `entries()`.
    pub fn set_placements(&mut self, placements: Vec<Placement>) {
        debug_assert_eq!(placements.len(), self.entries.len());
        for (entry, placement) in self.entries.iter_mut().zip(placements) {
            entry.placement = placement;
        }
    }

    /// Takes in what the store holds now. Annotations only this page has (not saved) stay;
    /// saved ones missing from the store were deleted elsewhere. New or changed annotations
    /// come with their placement from `place`.
    pub fn merge_stored(&mut self, stored: Vec<Annotation>, mut place: impl FnMut(&Annotation) -> Placement) -> Merge {
        let mut merge = Merge::default();
        let stored_ids: std::collections::HashSet<String> = stored.iter().map(|a| a.id.clone()).collect();
        self.entries.retain(|e| {
            let keep = e.not_saved.is_some() || stored_ids.contains(e.id());
            if !keep {
                merge.removed.push(e.id().to_string());
            }
            keep
        });
        for annotation in stored {
            match self.get_mut(&annotation.id) {
                Some(entry) if entry.annotation == annotation => entry.not_saved = None,
                Some(entry) => {
                    merge.updated.push(annotation.id.clone());
                    entry.placement = place(&annotation);
                    entry.annotation = annotation;
                    entry.not_saved = None;
                }
                None => {
                    merge.added.push(annotation.id.clone());
                    let placement = place(&annotation);
                    self.entries.push(Entry { annotation, placement, not_saved: None });
                }
            }
        }
        merge
    }

    pub fn stats(&self) -> Stats {
        let mut stats = Stats { total: self.entries.len(), ..Stats::default() };
        for entry in &self.entries {
            match entry.placement {
                Placement::Anchored { .. } => stats.anchored += 1,
                Placement::Fuzzy { .. } => stats.fuzzy += 1,
                Placement::Orphan(_) => stats.orphan += 1,
            }
        }
        stats
    }

    pub fn listing(&self, filter: Filter) -> Listing {
        let mut listing = Listing::default();
        for (i, entry) in self.entries.iter().enumerate() {
            if !filter.admits(&entry.annotation) {
                continue;
            }
            match entry.placement.span() {
                Some(_) => listing.placed.push(i),
                None => listing.orphans.push(i),
            }
        }
        let key = |i: &usize| {
            let span = self.entries[*i].placement.span().unwrap_or(Span { start: usize::MAX, end: usize::MAX });
            (span.start, span.end, self.entries[*i].annotation.created.clone())
        };
        listing.placed.sort_by_key(key);
        listing.orphans.sort_by(|a, b| self.entries[*a].annotation.created.cmp(&self.entries[*b].annotation.created));
        listing
    }

    /// Annotations in document order (placed first, then orphans): the export order.
    pub fn in_document_order(&self) -> Vec<Annotation> {
        let listing = self.listing(Filter::All);
        listing.placed.iter().chain(&listing.orphans).map(|&i| self.entries[i].annotation.clone()).collect()
    }

    /// Placed annotations whose span covers `offset`, the narrowest first (the most specific
    /// flag wins a click on nested passages).
    pub fn at_offset(&self, offset: usize) -> Vec<usize> {
        let mut hits: Vec<(usize, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.placement.span().filter(|s| s.start <= offset && offset < s.end).map(|s| (s.end - s.start, i)))
            .collect();
        hits.sort_unstable();
        hits.into_iter().map(|(_, i)| i).collect()
    }

    pub fn unsaved(&self) -> Vec<Annotation> {
        self.entries.iter().filter(|e| e.not_saved.is_some()).map(|e| e.annotation.clone()).collect()
    }
}

/// A rectangle in viewport coordinates (CSS pixels).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rect {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Rect {
    pub fn contains(&self, x: f64, y: f64) -> bool {
        self.left <= x && x <= self.right && self.top <= y && y <= self.bottom
    }
}

/// Where a floating box goes: `left`, and either `top` (below the anchor) or `bottom`
/// (distance from the viewport's bottom edge, above the anchor) so the box's real height never
/// matters; `max_height` keeps it inside the viewport.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Placed {
    pub left: f64,
    pub top: Option<f64>,
    pub bottom: Option<f64>,
    pub max_height: f64,
}

/// Places a box of `size` (height estimated) next to `anchor` in a `viewport`: above when
/// `prefer_above` and it fits, else below, else on the roomier side; kept inside the viewport.
pub fn place(anchor: Rect, size: (f64, f64), viewport: (f64, f64), prefer_above: bool) -> Placed {
    const GAP: f64 = 8.0;
    const MIN_HEIGHT: f64 = 120.0;
    let (w, h) = size;
    let (vw, vh) = viewport;
    let room_above = anchor.top - GAP;
    let room_below = vh - anchor.bottom - GAP;
    let above = if prefer_above {
        room_above >= h || room_above > room_below
    } else {
        room_below < h && room_above > room_below
    };
    let centre = (anchor.left + anchor.right) / 2.0;
    let left = (centre - w / 2.0).min(vw - w - GAP).max(GAP);
    let edge = |v: f64| v.min(vh - GAP - MIN_HEIGHT.min(h)).max(GAP);
    if above {
        let bottom = edge(vh - anchor.top + GAP);
        Placed { left, top: None, bottom: Some(bottom), max_height: (vh - bottom - GAP).max(MIN_HEIGHT) }
    } else {
        let top = edge(anchor.bottom + GAP);
        Placed { left, top: Some(top), bottom: None, max_height: (vh - top - GAP).max(MIN_HEIGHT) }
    }
}

/// Position of each item id in an import file (an annotation, an array, an AnnotationPage or an
/// AnnotationCollection's first page), to report refusals by the item's place in the file.
pub fn item_positions(json: &str) -> std::collections::HashMap<String, usize> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let items = match &value {
        serde_json::Value::Array(items) => items.as_slice(),
        serde_json::Value::Object(o) => match (o.get("items"), o.get("first").and_then(|f| f.get("items"))) {
            (Some(serde_json::Value::Array(items)), _) | (_, Some(serde_json::Value::Array(items))) => items.as_slice(),
            _ => std::slice::from_ref(&value),
        },
        _ => &[],
    };
    let mut positions = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(id) = item.get("id").and_then(|v| v.as_str()) {
            positions.entry(id.to_string()).or_insert(i);
        }
    }
    positions
}

/// At most `max` characters of `text`, whitespace collapsed, with an ellipsis when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let mut cut: String = collapsed.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[derive(Clone, Debug, PartialEq)]
pub enum FormTarget {
    /// A new flag on a span of the page text, described when the flag kind was chosen.
    New { span: Span, selectors: Selectors },
    /// Editing an existing annotation.
    Edit(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormError {
    Evidence,
    NoteTooLong,
    TooManyEvidence,
}

/// What the form produces once valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub flag: Flag,
    pub note: Option<String>,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub target: FormTarget,
    pub flag: Flag,
    pub note: String,
    /// Web addresses separated by spaces.
    pub evidence: String,
    pub error: Option<FormError>,
    pub anchor: Rect,
}

impl Form {
    pub fn evidence_links(&self) -> Vec<String> {
        self.evidence.split_whitespace().map(str::to_string).collect()
    }

    pub fn check(&self) -> Result<Draft, FormError> {
        let evidence = self.evidence_links();
        if evidence.len() > factmark_core::model::MAX_EVIDENCE {
            return Err(FormError::TooManyEvidence);
        }
        if evidence.iter().any(|url| validate_evidence_url(url).is_err()) {
            return Err(FormError::Evidence);
        }
        let note = self.note.trim();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(FormError::NoteTooLong);
        }
        Ok(Draft { flag: self.flag, note: (!note.is_empty()).then(|| note.to_string()), evidence })
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Floating {
    #[default]
    None,
    /// Beside a fresh selection: choose a flag.
    Toolbar { span: Span, anchor: Rect },
    Form(Form),
    /// One annotation's details.
    Popover { id: String, anchor: Rect },
}

/// The reader's UI: at most one floating box, plus the panel.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ui {
    pub floating: Floating,
    pub panel_open: bool,
    pub filter: Filter,
}

impl Ui {
    /// The selection changed. A form or popover in progress is not disturbed by it.
    pub fn selection(&mut self, selected: Option<(Span, Rect)>) {
        match (&self.floating, selected) {
            (Floating::None | Floating::Toolbar { .. }, Some((span, anchor))) => {
                self.floating = Floating::Toolbar { span, anchor }
            }
            (Floating::Toolbar { .. }, None) => self.floating = Floating::None,
            _ => {}
        }
    }

    /// A toolbar button: open the form for a new flag of that kind on the selection, which
    /// `selectors` describe.
    pub fn choose(&mut self, flag: Flag, selectors: Selectors) {
        if let Floating::Toolbar { span, anchor } = self.floating.clone() {
            self.floating = Floating::Form(Form {
                target: FormTarget::New { span, selectors },
                flag,
                note: String::new(),
                evidence: String::new(),
                error: None,
                anchor,
            });
        }
    }

    pub fn edit(&mut self, annotation: &Annotation, anchor: Rect) {
        self.floating = Floating::Form(Form {
            target: FormTarget::Edit(annotation.id.clone()),
            flag: annotation.flag().unwrap_or(Flag::Unverified),
            note: annotation.note().unwrap_or_default().to_string(),
            evidence: annotation.evidence().join(" "),
            error: None,
            anchor,
        });
    }

    pub fn show(&mut self, id: &str, anchor: Rect) {
        self.floating = Floating::Popover { id: id.to_string(), anchor };
    }

    /// Escape, Cancel, or a click elsewhere.
    pub fn dismiss(&mut self) {
        self.floating = Floating::None;
    }

    pub fn form_mut(&mut self) -> Option<&mut Form> {
        match &mut self.floating {
            Floating::Form(form) => Some(form),
            _ => None,
        }
    }

    /// Typing in the evidence field. A scheme other than http(s) is refused as soon as it is
    /// typed (`javascript:`, `data:`); an unfinished address is only judged on leaving the field.
    pub fn type_evidence(&mut self, value: String) {
        if let Some(form) = self.form_mut() {
            form.evidence = value;
            let typed_scheme = form.evidence_links().iter().any(|u| u.contains(':'));
            if typed_scheme || form.error == Some(FormError::Evidence) {
                form.error = match form.check() {
                    Err(FormError::Evidence) => Some(FormError::Evidence),
                    _ => None,
                };
            }
        }
    }

    pub fn leave_evidence(&mut self) {
        if let Some(form) = self.form_mut() {
            form.error = form.check().err();
        }
    }

    pub fn type_note(&mut self, value: String) {
        if let Some(form) = self.form_mut() {
            form.note = value;
            if form.error == Some(FormError::NoteTooLong) {
                form.error = form.check().err();
            }
        }
    }

    /// The annotation is gone: close whatever showed it.
    pub fn forget(&mut self, id: &str) {
        let shows_it = match &self.floating {
            Floating::Popover { id: shown, .. } => shown == id,
            Floating::Form(Form { target: FormTarget::Edit(edited), .. }) => edited == id,
            _ => false,
        };
        if shows_it {
            self.floating = Floating::None;
        }
    }

    /// The page scrolled or reflowed: the floating box follows its passage.
    pub fn move_anchor(&mut self, rect: Rect) {
        match &mut self.floating {
            Floating::None => {}
            Floating::Toolbar { anchor, .. } | Floating::Popover { anchor, .. } | Floating::Form(Form { anchor, .. }) => {
                *anchor = rect
            }
        }
    }
}
