//! The page's annotations, where each one sits in the text, and what the reader's UI shows.
//! Plain Rust types with no browser in them: the DOM layer feeds them and renders them.

use factmark_core::anchor::{Method, OrphanReason, Resolution, Span};
use factmark_core::model::{validate_evidence_url, Annotation, Flag, Selectors, MAX_NOTE_CHARS};
use factmark_core::order::SortedMap;

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
            Resolution::Anchored(a) if a.method == Method::Fuzzy => Placement::Fuzzy {
                start: a.start,
                end: a.end,
            },
            Resolution::Anchored(a) => Placement::Anchored {
                start: a.start,
                end: a.end,
            },
            Resolution::Orphan(o) => Placement::Orphan(o.reason),
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
            Placement::Anchored { start, end } | Placement::Fuzzy { start, end } => {
                Some(Span { start, end })
            }
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
    /// id → index in `entries` (a sorted vector: no hash table code in the wasm).
    index: SortedMap<String, usize>,
}

impl Annotations {
    /// From entries with distinct ids (a later duplicate replaces the earlier one).
    pub fn from_entries(entries: impl IntoIterator<Item = Entry>) -> Annotations {
        let mut all = Annotations {
            entries: entries.into_iter().collect(),
            index: SortedMap::new(),
        };
        all.reindex();
        if all.index.len() < all.entries.len() {
            // Repeated ids (never in what factmark stores): one by one, so each replaces.
            let entries = std::mem::take(&mut all.entries);
            all.index = SortedMap::new();
            for entry in entries {
                all.upsert(entry);
            }
        }
        all
    }

    fn reindex(&mut self) {
        self.index = SortedMap::from_entries(
            self.entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.id().to_string(), i))
                .collect(),
        );
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every id with its index in `entries()`, in id order.
    pub fn ids_sorted(&self) -> impl Iterator<Item = (&str, usize)> {
        self.index.iter().map(|(id, &i)| (id.as_str(), i))
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.position(id).map(|i| &self.entries[i])
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Entry> {
        self.position(id).map(|i| &mut self.entries[i])
    }

    /// Inserts or replaces by id; true when it was new.
    pub fn upsert(&mut self, entry: Entry) -> bool {
        match self.position(entry.id()) {
            Some(i) => {
                self.entries[i] = entry;
                false
            }
            None => {
                self.index
                    .insert(entry.id().to_string(), self.entries.len());
                self.entries.push(entry);
                true
            }
        }
    }

    pub fn remove(&mut self, id: &str) -> Option<Entry> {
        let i = self.position(id)?;
        let entry = self.entries.remove(i);
        self.reindex();
        Some(entry)
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
    pub fn merge_stored(
        &mut self,
        stored: Vec<Annotation>,
        mut place: impl FnMut(&Annotation) -> Placement,
    ) -> Merge {
        let mut merge = Merge::default();
        let stored_ids: SortedMap<&str, ()> =
            SortedMap::from_entries(stored.iter().map(|a| (a.id.as_str(), ())).collect());
        self.entries.retain(|e| {
            let keep = e.not_saved.is_some() || stored_ids.contains_key(e.id());
            if !keep {
                merge.removed.push(e.id().to_string());
            }
            keep
        });
        self.reindex();
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
                    self.upsert(Entry {
                        annotation,
                        placement,
                        not_saved: None,
                    });
                }
            }
        }
        merge
    }

    pub fn stats(&self) -> Stats {
        let mut stats = Stats {
            total: self.entries.len(),
            ..Stats::default()
        };
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
        let span = |i: usize| {
            let span = self.entries[i].placement.span().unwrap_or(Span {
                start: usize::MAX,
                end: usize::MAX,
            });
            (span.start, span.end)
        };
        let created = |i: usize| self.entries[i].annotation.created.as_deref();
        factmark_core::order::sort_by(&mut listing.placed, |&a, &b| {
            span(a)
                .cmp(&span(b))
                .then_with(|| created(a).cmp(&created(b)))
        });
        factmark_core::order::sort_by(&mut listing.orphans, |&a, &b| created(a).cmp(&created(b)));
        listing
    }

    /// Annotations in document order (placed first, then orphans): the export order.
    pub fn in_document_order(&self) -> Vec<Annotation> {
        let listing = self.listing(Filter::All);
        listing
            .placed
            .iter()
            .chain(&listing.orphans)
            .map(|&i| self.entries[i].annotation.clone())
            .collect()
    }

    /// Placed annotations whose span covers `offset`, the narrowest first (the most specific
    /// flag wins a click on nested passages).
    pub fn at_offset(&self, offset: usize) -> Vec<usize> {
        let mut hits: Vec<(usize, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                e.placement
                    .span()
                    .filter(|s| s.start <= offset && offset < s.end)
                    .map(|s| (s.end - s.start, i))
            })
            .collect();
        factmark_core::order::sort_by_key(&mut hits, |&hit| hit);
        hits.into_iter().map(|(_, i)| i).collect()
    }

    pub fn unsaved(&self) -> Vec<Annotation> {
        self.entries
            .iter()
            .filter(|e| e.not_saved.is_some())
            .map(|e| e.annotation.clone())
            .collect()
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
        Placed {
            left,
            top: None,
            bottom: Some(bottom),
            max_height: (vh - bottom - GAP).max(MIN_HEIGHT),
        }
    } else {
        let top = edge(anchor.bottom + GAP);
        Placed {
            left,
            top: Some(top),
            bottom: None,
            max_height: (vh - top - GAP).max(MIN_HEIGHT),
        }
    }
}

/// Position of each item id in an import file (an annotation, an array, an AnnotationPage or an
/// AnnotationCollection's first page), to report refusals by the item's place in the file.
pub fn item_positions(json: &str) -> SortedMap<String, usize> {
    use factmark_core::json::{self, Value};
    let value = json::from_str(json).unwrap_or_default();
    let items = match &value {
        Value::Array(items) => items.as_slice(),
        Value::Object(o) => match (o.get("items"), o.get("first").and_then(|f| f.get("items"))) {
            (Some(Value::Array(items)), _) | (_, Some(Value::Array(items))) => items.as_slice(),
            _ => std::slice::from_ref(&value),
        },
        _ => &[],
    };
    // The first item with an id is its place: entries go in last to first, and the last wins.
    let positions = items
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, item)| Some((item.get("id")?.as_str()?.to_string(), i)))
        .collect();
    SortedMap::from_entries(positions)
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
        self.evidence
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    pub fn check(&self) -> Result<Draft, FormError> {
        let evidence = self.evidence_links();
        if evidence.len() > factmark_core::model::MAX_EVIDENCE {
            return Err(FormError::TooManyEvidence);
        }
        if evidence
            .iter()
            .any(|url| validate_evidence_url(url).is_err())
        {
            return Err(FormError::Evidence);
        }
        let note = self.note.trim();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(FormError::NoteTooLong);
        }
        Ok(Draft {
            flag: self.flag,
            note: (!note.is_empty()).then(|| note.to_string()),
            evidence,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Floating {
    #[default]
    None,
    /// Beside a fresh selection: choose a flag.
    Toolbar {
        span: Span,
        anchor: Rect,
    },
    Form(Form),
    /// One annotation's details.
    Popover {
        id: String,
        anchor: Rect,
    },
}

/// The reader's UI: at most one floating box, plus the panel.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ui {
    pub floating: Floating,
    pub panel_open: bool,
    pub filter: Filter,
}

impl Ui {
    /// The selection changed: a new selection gets the toolbar (in place of a popover); a form
    /// in progress is never disturbed.
    pub fn selection(&mut self, selected: Option<(Span, Rect)>) {
        match (&self.floating, selected) {
            (
                Floating::None | Floating::Toolbar { .. } | Floating::Popover { .. },
                Some((span, anchor)),
            ) => self.floating = Floating::Toolbar { span, anchor },
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
        self.floating = Floating::Popover {
            id: id.to_string(),
            anchor,
        };
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
            Floating::Form(Form {
                target: FormTarget::Edit(edited),
                ..
            }) => edited == id,
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
            Floating::Toolbar { anchor, .. }
            | Floating::Popover { anchor, .. }
            | Floating::Form(Form { anchor, .. }) => *anchor = rect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use factmark_core::anchor::describe;
    use factmark_core::model::{new_id, NewFlag};
    use factmark_core::text::Text;

    const PAGE: &str =
        "Sources close to the mayor say bills will fall by 80 percent. Experts agree.";

    fn flag(start: usize, end: usize, flag: Flag, n: u8, created: &str) -> Annotation {
        let text = Text::new(PAGE);
        Annotation::new_flag(NewFlag {
            source: "https://news.example/a",
            selectors: describe(&text, Span { start, end }).unwrap(),
            flag,
            note: Some("why"),
            evidence: vec![],
            id: new_id([n; 16]),
            now: created.into(),
        })
        .unwrap()
    }

    fn entry(a: Annotation, placement: Placement) -> Entry {
        Entry {
            annotation: a,
            placement,
            not_saved: None,
        }
    }

    fn sample() -> (Annotations, [String; 4]) {
        let a = flag(50, 60, Flag::Fabricated, 1, "2026-11-20T10:00:00Z");
        let b = flag(0, 7, Flag::Unverified, 2, "2026-11-20T11:00:00Z");
        let c = flag(62, 76, Flag::Unverified, 3, "2026-11-20T09:00:00Z");
        let d = flag(8, 13, Flag::Fabricated, 4, "2026-11-20T08:00:00Z");
        let ids = [a.id.clone(), b.id.clone(), c.id.clone(), d.id.clone()];
        let mut all = Annotations::default();
        all.upsert(entry(a, Placement::Anchored { start: 50, end: 60 }));
        all.upsert(entry(b, Placement::Fuzzy { start: 0, end: 7 }));
        all.upsert(entry(c, Placement::Orphan(OrphanReason::NotFound)));
        all.upsert(entry(d, Placement::Anchored { start: 8, end: 13 }));
        (all, ids)
    }

    #[test]
    fn listing_is_in_document_order_with_orphans_apart() {
        let (all, _) = sample();
        let listing = all.listing(Filter::All);
        assert_eq!(
            listing.placed,
            vec![1, 3, 0],
            "by start offset, not by insertion"
        );
        assert_eq!(listing.orphans, vec![2]);
        let fabricated = all.listing(Filter::Only(Flag::Fabricated));
        assert_eq!(fabricated.placed, vec![3, 0]);
        assert!(fabricated.orphans.is_empty());
        let unverified = all.listing(Filter::Only(Flag::Unverified));
        assert_eq!((unverified.placed, unverified.orphans), (vec![1], vec![2]));
    }

    #[test]
    fn stats_count_each_status_once() {
        let (all, _) = sample();
        assert_eq!(
            all.stats(),
            Stats {
                total: 4,
                anchored: 2,
                fuzzy: 1,
                orphan: 1
            }
        );
    }

    #[test]
    fn export_order_is_document_order_then_orphans() {
        let (all, ids) = sample();
        let order: Vec<String> = all.in_document_order().into_iter().map(|a| a.id).collect();
        assert_eq!(
            order,
            vec![
                ids[1].clone(),
                ids[3].clone(),
                ids[0].clone(),
                ids[2].clone()
            ]
        );
    }

    #[test]
    fn the_narrowest_flag_under_a_point_comes_first() {
        let mut all = Annotations::default();
        all.upsert(entry(
            flag(0, 30, Flag::Unverified, 1, "2026-11-20T10:00:00Z"),
            Placement::Anchored { start: 0, end: 30 },
        ));
        all.upsert(entry(
            flag(8, 13, Flag::Fabricated, 2, "2026-11-20T10:00:00Z"),
            Placement::Anchored { start: 8, end: 13 },
        ));
        assert_eq!(all.at_offset(10), vec![1, 0]);
        assert_eq!(all.at_offset(2), vec![0]);
        assert_eq!(all.at_offset(13), vec![0], "end is exclusive");
        assert!(all.at_offset(40).is_empty());
    }

    #[test]
    fn merging_the_store_keeps_unsaved_and_drops_what_was_deleted_elsewhere() {
        let (mut all, ids) = sample();
        all.get_mut(&ids[3]).unwrap().not_saved = Some(NotSaved::Quota);
        let mut changed = all.get(&ids[0]).unwrap().annotation.clone();
        changed.set_flag(Flag::Unverified);
        let fresh = flag(20, 26, Flag::Fabricated, 9, "2026-11-21T10:00:00Z");
        let stored = vec![
            changed,
            all.get(&ids[1]).unwrap().annotation.clone(),
            fresh.clone(),
        ];
        let merge = all.merge_stored(stored, |_| Placement::Anchored { start: 20, end: 26 });
        assert_eq!(merge.added, vec![fresh.id.clone()]);
        assert_eq!(merge.updated, vec![ids[0].clone()]);
        assert_eq!(
            merge.removed,
            vec![ids[2].clone()],
            "saved and gone from the store"
        );
        assert!(all.get(&ids[3]).is_some(), "only in this page: kept");
        assert_eq!(
            all.get(&ids[0]).unwrap().annotation.flag(),
            Some(Flag::Unverified)
        );
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn selection_opens_the_toolbar_but_never_disturbs_a_form() {
        let mut ui = Ui::default();
        let span = Span { start: 0, end: 7 };
        let rect = Rect {
            left: 10.0,
            top: 100.0,
            right: 80.0,
            bottom: 120.0,
        };
        ui.selection(Some((span, rect)));
        assert_eq!(ui.floating, Floating::Toolbar { span, anchor: rect });
        let selectors = describe(&Text::new(PAGE), span).unwrap();
        ui.choose(Flag::Fabricated, selectors.clone());
        let Floating::Form(form) = &ui.floating else {
            panic!("form expected")
        };
        assert_eq!(
            (form.flag, &form.target),
            (Flag::Fabricated, &FormTarget::New { span, selectors })
        );
        ui.selection(None);
        ui.selection(Some((Span { start: 2, end: 4 }, rect)));
        assert!(
            matches!(ui.floating, Floating::Form(_)),
            "typing must not be lost to a selection change"
        );
        ui.dismiss();
        assert_eq!(ui.floating, Floating::None);
        ui.selection(None);
        assert_eq!(ui.floating, Floating::None);
        ui.show("a", rect);
        ui.selection(None);
        assert!(
            matches!(ui.floating, Floating::Popover { .. }),
            "a click that collapses the selection keeps the popover"
        );
        ui.selection(Some((span, rect)));
        assert!(
            matches!(ui.floating, Floating::Toolbar { .. }),
            "a new selection gets the toolbar"
        );
    }

    fn form_with(evidence: &str, note: &str) -> Form {
        let span = Span { start: 0, end: 7 };
        Form {
            target: FormTarget::New {
                span,
                selectors: describe(&Text::new(PAGE), span).unwrap(),
            },
            flag: Flag::Unverified,
            note: note.into(),
            evidence: evidence.into(),
            error: None,
            anchor: Rect::default(),
        }
    }

    #[test]
    fn evidence_must_be_http_and_is_refused_as_typed() {
        let mut ui = Ui {
            floating: Floating::Form(form_with("", "")),
            ..Ui::default()
        };
        ui.type_evidence("ht".into());
        assert_eq!(
            ui.form_mut().unwrap().error,
            None,
            "unfinished: not judged yet"
        );
        ui.type_evidence("javascript:alert(1)".into());
        assert_eq!(ui.form_mut().unwrap().error, Some(FormError::Evidence));
        ui.type_evidence("https://example.org/report".into());
        assert_eq!(ui.form_mut().unwrap().error, None);
        ui.type_evidence("www.example.org".into());
        assert_eq!(ui.form_mut().unwrap().error, None);
        ui.leave_evidence();
        assert_eq!(
            ui.form_mut().unwrap().error,
            Some(FormError::Evidence),
            "judged on leaving the field"
        );
        assert_eq!(
            form_with("data:text/html,x", "").check(),
            Err(FormError::Evidence)
        );
    }

    #[test]
    fn a_valid_form_gives_a_trimmed_draft() {
        let draft = form_with(" https://a.example/1  http://b.example/2 ", "  a note \n")
            .check()
            .unwrap();
        assert_eq!(draft.note.as_deref(), Some("a note"));
        assert_eq!(
            draft.evidence,
            vec!["https://a.example/1", "http://b.example/2"]
        );
        assert_eq!(form_with("", "   ").check().unwrap().note, None);
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(form_with("", &long).check(), Err(FormError::NoteTooLong));
    }

    #[test]
    fn forgetting_an_annotation_closes_only_what_shows_it() {
        let mut ui = Ui::default();
        ui.show("a", Rect::default());
        ui.forget("b");
        assert!(matches!(ui.floating, Floating::Popover { .. }));
        ui.forget("a");
        assert_eq!(ui.floating, Floating::None);
    }

    #[test]
    fn floating_boxes_stay_inside_the_viewport() {
        let viewport = (1000.0, 800.0);
        let mid = Rect {
            left: 400.0,
            top: 400.0,
            right: 600.0,
            bottom: 420.0,
        };
        let above = place(mid, (200.0, 40.0), viewport, true);
        assert_eq!(
            (above.left, above.top, above.bottom),
            (400.0, None, Some(408.0))
        );
        let below = place(mid, (300.0, 300.0), viewport, false);
        assert_eq!((below.left, below.top), (350.0, Some(428.0)));
        // Near the top edge a toolbar preferring "above" goes below instead.
        let top = Rect {
            left: 0.0,
            top: 10.0,
            right: 20.0,
            bottom: 30.0,
        };
        let p = place(top, (200.0, 40.0), viewport, true);
        assert_eq!((p.left, p.top), (8.0, Some(38.0)));
        // Near the bottom a form goes above; near the right edge it is pulled in.
        let corner = Rect {
            left: 950.0,
            top: 760.0,
            right: 990.0,
            bottom: 780.0,
        };
        let p = place(corner, (320.0, 320.0), viewport, false);
        assert_eq!((p.left, p.top, p.bottom), (672.0, None, Some(48.0)));
        // A passage scrolled out of view keeps the box on screen.
        let gone = Rect {
            left: 100.0,
            top: -500.0,
            right: 200.0,
            bottom: -480.0,
        };
        let p = place(gone, (320.0, 220.0), viewport, false);
        assert!(p.top.unwrap() >= 8.0);
    }

    #[test]
    fn excerpts_collapse_whitespace_and_cut_on_characters() {
        assert_eq!(excerpt("a  b\n c", 10), "a b c");
        assert_eq!(
            excerpt("Fabricated 😀 images circulate", 13),
            "Fabricated 😀…"
        );
        assert_eq!(excerpt("one two three", 8), "one two…");
    }

    #[test]
    fn import_positions_follow_the_file_layout() {
        let array = r#"[{"id":"a"},{"id":"b"}]"#;
        assert_eq!(item_positions(array).get("b"), Some(&1));
        let page = r#"{"type":"AnnotationPage","items":[{"id":"x"},{"id":"y"}]}"#;
        assert_eq!(item_positions(page).get("y"), Some(&1));
        let collection = r#"{"type":"AnnotationCollection","first":{"items":[{"id":"p"}]}}"#;
        assert_eq!(item_positions(collection).get("p"), Some(&0));
        assert_eq!(item_positions(r#"{"id":"solo"}"#).get("solo"), Some(&0));
        assert!(item_positions("not json").is_empty());
    }
}
