//! A client's timeline: valid time cut into segments in which nothing the
//! in- and outflow report reads of the client changes — the registration
//! kinds active, the earliest start among the active episodes, the fase and
//! the doelgroepen in force, the next bijstand start — so that the report
//! finds a client's state on a day with one lookup instead of searching
//! episodes, classifications and assignments for it (docs/reports.md).
//!
//! The database keeps, beside the history, one generation of segments per
//! client and change (`client_timeline`): the store writes a new one in the
//! transaction of every change to the facts below, the migration that made
//! the table rebuilt the earlier ones from the history with `replay`. Both
//! use this crate, which is why it is one of its own: the migrations crate
//! cannot depend on the service.
//!
//! Pure: no I/O, no clock. Dates are valid time; `recorded_at` is the
//! store's transaction time in microseconds.

use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Registration kinds as the bits of a segment's `kinds`: the stored form,
/// so the bits never change.
pub mod kind {
    pub const BIJSTAND: u8 = 1;
    pub const IOAW: u8 = 2;
    pub const IOAZ: u8 = 4;
    pub const ANW: u8 = 8;
    pub const NUGGER: u8 = 16;
    /// Abw/WWB/Participatiewet, IOAW and IOAZ: the bijstand kinds of the
    /// report's specification.
    pub const BIJSTAND_KINDS: u8 = BIJSTAND | IOAW | IOAZ;

    /// Every kind with its stored code.
    pub const ALL: [(&str, u8); 5] = [
        ("BIJSTAND", BIJSTAND),
        ("IOAW", IOAW),
        ("IOAZ", IOAZ),
        ("ANW", ANW),
        ("NUGGER", NUGGER),
    ];

    /// The bit of a stored registration kind code.
    pub fn bit(code: &str) -> Option<u8> {
        ALL.iter().find(|(c, _)| *c == code).map(|(_, bit)| *bit)
    }
}

/// Separates the doelgroep codes of a segment's `doelgroepen` (codes are
/// letters, digits and underscores).
pub const CODE_SEPARATOR: char = ',';

/// A registration episode: active from `start` to `end`, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// One of the `kind` bits.
    pub kind: u8,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl Episode {
    fn active_on(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|end| day <= end)
    }
}

/// A value in force from `valid_from` until the next one of its kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dated<T> {
    pub valid_from: NaiveDate,
    pub value: T,
}

/// Everything of one client a timeline is made of: the latest version of
/// each fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub birth_date: NaiveDate,
    pub episodes: Vec<Episode>,
    /// Fase classifications: the fase code (`FASE_1` …, `ONTHEFFING`).
    pub fases: Vec<Dated<String>>,
    /// Doelgroep assignments: the codes of each (an empty set is none).
    pub doelgroepen: Vec<Dated<Vec<String>>>,
}

/// The client's state in valid time from `valid_from` (inclusive; `None`:
/// since always) to `valid_to` (exclusive; `None`: from then on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// The kinds of the episodes active (`kind` bits; 0: none).
    pub kinds: u8,
    /// `kinds` of the segment before (0 for the first): in- and outflow of
    /// bijstand happen where the two differ.
    pub kinds_before: u8,
    /// The earliest start among the active episodes.
    pub first_start: Option<NaiveDate>,
    /// The first start of a bijstand-kind episode after any day of the
    /// segment: every episode start begins a segment, so for a day in this
    /// one the later starts are those from `valid_to` on.
    pub next_bijstand_start: Option<NaiveDate>,
    /// Where the next segment that flows into bijstand begins (instroom: in
    /// bijstand after a day without), and the next that flows out of it
    /// (uitstroom: without bijstand after a day with). With them the report
    /// counts a client with several in a period once, at the last.
    pub next_instroom: Option<NaiveDate>,
    pub next_uitstroom: Option<NaiveDate>,
    /// The fase in force (`None`: niet ingedeeld).
    pub fase: Option<String>,
    /// The doelgroep codes in force, sorted, joined by `CODE_SEPARATOR`
    /// (`None`: no doelgroep).
    pub doelgroepen: Option<String>,
    pub birth_date: NaiveDate,
}

impl Segment {
    /// The client flows into bijstand where this segment begins.
    pub fn is_instroom(&self) -> bool {
        in_bijstand(self.kinds) && !in_bijstand(self.kinds_before)
    }

    /// The client flows out of bijstand where this segment begins.
    pub fn is_uitstroom(&self) -> bool {
        !in_bijstand(self.kinds) && in_bijstand(self.kinds_before)
    }

    fn says(&self, state: &State) -> bool {
        self.kinds == state.kinds
            && self.first_start == state.first_start
            && self.next_bijstand_start == state.next_bijstand_start
            && self.fase == state.fase
            && self.doelgroepen == state.doelgroepen
    }

    /// Does the segment hold on `day`?
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && self.valid_to.is_none_or(|to| day < to)
    }
}

fn in_bijstand(kinds: u8) -> bool {
    kinds & kind::BIJSTAND_KINDS != 0
}

/// What a segment says, without where it lies.
struct State {
    kinds: u8,
    first_start: Option<NaiveDate>,
    next_bijstand_start: Option<NaiveDate>,
    fase: Option<String>,
    doelgroepen: Option<String>,
}

/// The value of `dated` in force on `day`: the one with the latest
/// `valid_from` on or before it (the store allows one per day; should two
/// share it, the greatest value, so that the answer never depends on order).
fn in_force<T: Ord>(dated: &[Dated<T>], day: NaiveDate) -> Option<&T> {
    dated
        .iter()
        .filter(|d| d.valid_from <= day)
        .max_by(|a, b| a.cmp(b))
        .map(|d| &d.value)
}

impl Facts {
    /// The state on every day from `from` until `to` (exclusive), which no
    /// boundary lies between.
    fn state(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> State {
        let Some(day) = from else {
            // Before the first boundary nothing has begun.
            return State {
                kinds: 0,
                first_start: None,
                next_bijstand_start: self.next_bijstand_start(to),
                fase: None,
                doelgroepen: None,
            };
        };
        let active: Vec<&Episode> = self.episodes.iter().filter(|e| e.active_on(day)).collect();
        let doelgroepen = in_force(&self.doelgroepen, day)
            .filter(|codes| !codes.is_empty())
            .map(|codes| {
                let mut codes = codes.clone();
                codes.sort();
                codes.dedup();
                codes.join(&CODE_SEPARATOR.to_string())
            });
        State {
            kinds: active.iter().fold(0, |kinds, e| kinds | e.kind),
            first_start: active.iter().map(|e| e.start).min(),
            next_bijstand_start: self.next_bijstand_start(to),
            fase: in_force(&self.fases, day).cloned(),
            doelgroepen,
        }
    }

    fn next_bijstand_start(&self, to: Option<NaiveDate>) -> Option<NaiveDate> {
        let to = to?;
        self.episodes
            .iter()
            .filter(|e| e.kind & kind::BIJSTAND_KINDS != 0 && e.start >= to)
            .map(|e| e.start)
            .min()
    }

    /// The days on which something can change: every start and valid-from,
    /// and the day after every end.
    fn boundaries(&self) -> BTreeSet<NaiveDate> {
        let mut days = BTreeSet::new();
        for episode in &self.episodes {
            days.insert(episode.start);
            if let Some(after) = episode.end.and_then(|end| end.succ_opt()) {
                days.insert(after);
            }
        }
        days.extend(self.fases.iter().map(|f| f.valid_from));
        days.extend(self.doelgroepen.iter().map(|d| d.valid_from));
        days
    }
}

/// The client's timeline: consecutive segments from the beginning of time
/// on, each different from the one before.
pub fn segments(facts: &Facts) -> Vec<Segment> {
    let starts: Vec<Option<NaiveDate>> = std::iter::once(None)
        .chain(facts.boundaries().into_iter().map(Some))
        .collect();
    let mut segments: Vec<Segment> = Vec::with_capacity(starts.len());
    for (i, &from) in starts.iter().enumerate() {
        let to = starts.get(i + 1).copied().flatten();
        let state = facts.state(from, to);
        if let Some(last) = segments.last_mut()
            && last.says(&state)
        {
            last.valid_to = to;
            continue;
        }
        segments.push(Segment {
            valid_from: from,
            valid_to: to,
            kinds: state.kinds,
            kinds_before: segments.last().map_or(0, |s| s.kinds),
            first_start: state.first_start,
            next_bijstand_start: state.next_bijstand_start,
            next_instroom: None,
            next_uitstroom: None,
            fase: state.fase,
            doelgroepen: state.doelgroepen,
            birth_date: facts.birth_date,
        });
    }
    let (mut instroom, mut uitstroom) = (None, None);
    for segment in segments.iter_mut().rev() {
        segment.next_instroom = instroom;
        segment.next_uitstroom = uitstroom;
        if segment.is_instroom() {
            instroom = segment.valid_from;
        }
        if segment.is_uitstroom() {
            uitstroom = segment.valid_from;
        }
    }
    segments
}

/// One version of a fact of a client, as the history holds it.
#[derive(Debug, Clone)]
pub struct Version {
    /// The fact's id (the client's own for `Fact::Client`).
    pub fact: Uuid,
    pub version: i64,
    pub recorded_at: i64,
    pub value: Fact,
}

/// The content of a version, as far as a timeline reads it.
#[derive(Debug, Clone)]
pub enum Fact {
    Client {
        birth_date: NaiveDate,
    },
    Episode(Episode),
    /// A classification: its fase, or `None` in another scheme (the
    /// participatieladder), which a timeline does not read.
    Classification(Option<Dated<String>>),
    Doelgroepen(Dated<Vec<String>>),
}

/// The segments a client had from `recorded_at` until the next
/// generation's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub recorded_at: i64,
    pub segments: Vec<Segment>,
}

/// A client's generations from the history of its facts: after every
/// transaction time at which a version was recorded, the timeline of the
/// latest versions by then, when it differs from the one before. This is
/// what the store leaves behind by writing a generation in every change's
/// transaction; the store's test compares the two.
pub fn replay(versions: impl IntoIterator<Item = Version>) -> Vec<Generation> {
    let mut versions: Vec<Version> = versions.into_iter().collect();
    versions.sort_by_key(|v| (v.recorded_at, v.fact, v.version));
    let mut latest: BTreeMap<Uuid, (i64, Fact)> = BTreeMap::new();
    let mut generations: Vec<Generation> = Vec::new();
    let mut versions = versions.into_iter().peekable();
    while let Some(first) = versions.next() {
        let recorded_at = first.recorded_at;
        let mut group = vec![first];
        while let Some(next) = versions.next_if(|v| v.recorded_at == recorded_at) {
            group.push(next);
        }
        for version in group {
            let newer = latest
                .get(&version.fact)
                .is_none_or(|(known, _)| *known < version.version);
            if newer {
                latest.insert(version.fact, (version.version, version.value));
            }
        }
        let Some(facts) = assemble(latest.values().map(|(_, fact)| fact)) else {
            continue;
        };
        let segments = segments(&facts);
        if generations.last().is_none_or(|g| g.segments != segments) {
            generations.push(Generation {
                recorded_at,
                segments,
            });
        }
    }
    generations
}

/// The facts from the latest versions; `None` before the client exists.
fn assemble<'a>(facts: impl Iterator<Item = &'a Fact>) -> Option<Facts> {
    let mut birth_date = None;
    let mut assembled = Facts {
        birth_date: NaiveDate::MIN,
        episodes: Vec::new(),
        fases: Vec::new(),
        doelgroepen: Vec::new(),
    };
    for fact in facts {
        match fact {
            Fact::Client { birth_date: born } => birth_date = Some(*born),
            Fact::Episode(episode) => assembled.episodes.push(episode.clone()),
            Fact::Classification(Some(fase)) => assembled.fases.push(fase.clone()),
            Fact::Classification(None) => {}
            Fact::Doelgroepen(assignment) => assembled.doelgroepen.push(assignment.clone()),
        }
    }
    assembled.birth_date = birth_date?;
    Some(assembled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn born() -> NaiveDate {
        d(1980, 5, 17)
    }

    fn facts(episodes: Vec<Episode>) -> Facts {
        Facts {
            birth_date: born(),
            episodes,
            fases: vec![],
            doelgroepen: vec![],
        }
    }

    fn episode(kind: u8, start: NaiveDate, end: Option<NaiveDate>) -> Episode {
        Episode { kind, start, end }
    }

    fn dated<T>(valid_from: NaiveDate, value: T) -> Dated<T> {
        Dated { valid_from, value }
    }

    /// The segment holding `day`; there is exactly one.
    fn on(segments: &[Segment], day: NaiveDate) -> &Segment {
        let holding: Vec<&Segment> = segments.iter().filter(|s| s.contains(day)).collect();
        assert_eq!(holding.len(), 1, "one segment holds {day}: {segments:#?}");
        holding[0]
    }

    /// The timeline covers all time, without gaps or overlaps, and no two
    /// neighbours say the same.
    fn assert_well_formed(segments: &[Segment]) {
        assert_eq!(segments[0].valid_from, None);
        assert_eq!(segments.last().unwrap().valid_to, None);
        for pair in segments.windows(2) {
            assert_eq!(pair[0].valid_to, pair[1].valid_from);
            assert!(pair[0].valid_from < pair[1].valid_from || pair[0].valid_from.is_none());
            assert_eq!(pair[1].kinds_before, pair[0].kinds);
            let same = (
                pair[0].kinds,
                pair[0].first_start,
                pair[0].next_bijstand_start,
                &pair[0].fase,
                &pair[0].doelgroepen,
            ) == (
                pair[1].kinds,
                pair[1].first_start,
                pair[1].next_bijstand_start,
                &pair[1].fase,
                &pair[1].doelgroepen,
            );
            assert!(!same, "neighbours differ: {pair:#?}");
        }
    }

    #[test]
    fn a_client_without_facts_has_one_empty_segment() {
        let segments = segments(&facts(vec![]));
        assert_eq!(
            segments,
            vec![Segment {
                valid_from: None,
                valid_to: None,
                kinds: 0,
                kinds_before: 0,
                first_start: None,
                next_bijstand_start: None,
                next_instroom: None,
                next_uitstroom: None,
                fase: None,
                doelgroepen: None,
                birth_date: born(),
            }]
        );
    }

    #[test]
    fn an_episode_is_active_from_its_start_to_its_end_inclusive() {
        let segments = segments(&facts(vec![episode(
            kind::BIJSTAND,
            d(2024, 3, 1),
            Some(d(2024, 6, 30)),
        )]));
        assert_well_formed(&segments);
        assert_eq!(segments.len(), 3);
        assert_eq!(on(&segments, d(2024, 2, 29)).kinds, 0);
        assert_eq!(on(&segments, d(2024, 3, 1)).kinds, kind::BIJSTAND);
        assert_eq!(on(&segments, d(2024, 6, 30)).kinds, kind::BIJSTAND);
        assert_eq!(on(&segments, d(2024, 7, 1)).kinds, 0);
        assert_eq!(on(&segments, d(2024, 7, 1)).kinds_before, kind::BIJSTAND);
        assert_eq!(
            on(&segments, d(2024, 3, 1)).first_start,
            Some(d(2024, 3, 1))
        );
        assert_eq!(on(&segments, d(2024, 7, 1)).first_start, None);
    }

    #[test]
    fn overlapping_kinds_and_the_earliest_start_among_the_active() {
        let segments = segments(&facts(vec![
            episode(kind::ANW, d(2020, 1, 1), None),
            episode(kind::BIJSTAND, d(2023, 5, 10), Some(d(2023, 12, 31))),
        ]));
        assert_well_formed(&segments);
        let both = on(&segments, d(2023, 6, 1));
        assert_eq!(both.kinds, kind::ANW | kind::BIJSTAND);
        assert_eq!(both.first_start, Some(d(2020, 1, 1)));
        assert_eq!(on(&segments, d(2024, 1, 1)).kinds, kind::ANW);
        assert_eq!(
            on(&segments, d(2024, 1, 1)).first_start,
            Some(d(2020, 1, 1))
        );
    }

    #[test]
    fn the_next_bijstand_start_is_the_first_after_the_day() {
        let segments = segments(&facts(vec![
            episode(kind::NUGGER, d(2022, 1, 1), Some(d(2022, 12, 31))),
            episode(kind::IOAW, d(2023, 4, 1), Some(d(2023, 4, 30))),
            episode(kind::BIJSTAND, d(2024, 2, 1), None),
        ]));
        assert_well_formed(&segments);
        assert_eq!(
            on(&segments, d(2021, 6, 1)).next_bijstand_start,
            Some(d(2023, 4, 1))
        );
        assert_eq!(
            on(&segments, d(2022, 6, 1)).next_bijstand_start,
            Some(d(2023, 4, 1))
        );
        assert_eq!(
            on(&segments, d(2023, 4, 1)).next_bijstand_start,
            Some(d(2024, 2, 1)),
            "a start on the day itself is not after it"
        );
        assert_eq!(
            on(&segments, d(2023, 5, 1)).next_bijstand_start,
            Some(d(2024, 2, 1))
        );
        assert_eq!(on(&segments, d(2024, 2, 1)).next_bijstand_start, None);
    }

    #[test]
    fn a_start_the_day_after_an_end_is_its_own_segment_boundary() {
        // Bijstand ends, bijstand begins again the next day, under an ANW
        // episode that keeps the kinds and the first start the same: the
        // segments still split there, because the later days no longer see
        // that start ahead of them.
        let segments = segments(&facts(vec![
            episode(kind::ANW, d(2019, 1, 1), None),
            episode(kind::BIJSTAND, d(2020, 1, 1), Some(d(2020, 12, 31))),
            episode(kind::BIJSTAND, d(2021, 1, 1), None),
        ]));
        assert_well_formed(&segments);
        let before = on(&segments, d(2020, 12, 31));
        let after = on(&segments, d(2021, 1, 1));
        assert_eq!(before.kinds, after.kinds);
        assert_eq!(before.next_bijstand_start, Some(d(2021, 1, 1)));
        assert_eq!(after.next_bijstand_start, None);
        assert_eq!(after.valid_from, Some(d(2021, 1, 1)));
    }

    #[test]
    fn fases_and_doelgroepen_hold_from_their_valid_from_until_the_next() {
        let mut client = facts(vec![episode(kind::BIJSTAND, d(2024, 1, 1), None)]);
        client.fases = vec![
            dated(d(2024, 1, 1), "FASE_3".to_owned()),
            dated(d(2024, 9, 1), "FASE_2".to_owned()),
        ];
        client.doelgroepen = vec![
            dated(
                d(2024, 2, 1),
                vec!["STATUSHOUDERS".into(), "JONGEREN".into()],
            ),
            dated(d(2024, 5, 1), vec![]),
        ];
        let segments = segments(&client);
        assert_well_formed(&segments);
        assert_eq!(on(&segments, d(2023, 12, 31)).fase, None);
        assert_eq!(on(&segments, d(2024, 1, 1)).fase.as_deref(), Some("FASE_3"));
        assert_eq!(
            on(&segments, d(2024, 8, 31)).fase.as_deref(),
            Some("FASE_3")
        );
        assert_eq!(on(&segments, d(2024, 9, 1)).fase.as_deref(), Some("FASE_2"));
        assert_eq!(on(&segments, d(2024, 1, 31)).doelgroepen, None);
        assert_eq!(
            on(&segments, d(2024, 2, 1)).doelgroepen.as_deref(),
            Some("JONGEREN,STATUSHOUDERS")
        );
        assert_eq!(
            on(&segments, d(2024, 5, 1)).doelgroepen,
            None,
            "an empty set is no doelgroep"
        );
    }

    #[test]
    fn a_change_to_the_same_value_adds_no_segment() {
        let mut client = facts(vec![]);
        client.fases = vec![
            dated(d(2024, 1, 1), "FASE_1".to_owned()),
            dated(d(2024, 6, 1), "FASE_1".to_owned()),
        ];
        let segments = segments(&client);
        assert_well_formed(&segments);
        assert_eq!(segments.len(), 2);
    }

    fn version(fact: u128, version: i64, recorded_at: i64, value: Fact) -> Version {
        Version {
            fact: Uuid::from_u128(fact),
            version,
            recorded_at,
            value,
        }
    }

    #[test]
    fn replay_writes_a_generation_per_change_that_shows() {
        let bijstand = |end| Fact::Episode(episode(kind::BIJSTAND, d(2024, 1, 1), end));
        let generations = replay(vec![
            // Out of order on purpose.
            version(2, 2, 30, bijstand(Some(d(2024, 12, 31)))),
            version(1, 1, 10, Fact::Client { birth_date: born() }),
            version(2, 1, 20, bijstand(None)),
            // A new client version that changes nothing the timeline reads.
            version(1, 2, 40, Fact::Client { birth_date: born() }),
            // A participatieladder step: not read either.
            version(3, 1, 50, Fact::Classification(None)),
        ]);
        assert_eq!(
            generations
                .iter()
                .map(|g| g.recorded_at)
                .collect::<Vec<_>>(),
            vec![10, 20, 30]
        );
        assert_eq!(generations[0].segments.len(), 1);
        assert_eq!(
            on(&generations[1].segments, d(2025, 6, 1)).kinds,
            kind::BIJSTAND
        );
        assert_eq!(on(&generations[2].segments, d(2025, 6, 1)).kinds, 0);
    }

    #[test]
    fn replay_takes_the_highest_version_of_a_transaction() {
        let generations = replay(vec![
            version(1, 1, 10, Fact::Client { birth_date: born() }),
            version(
                1,
                2,
                10,
                Fact::Client {
                    birth_date: d(1990, 1, 1),
                },
            ),
        ]);
        assert_eq!(generations.len(), 1);
        assert_eq!(generations[0].segments[0].birth_date, d(1990, 1, 1));
    }

    #[test]
    fn facts_before_the_client_make_no_generation() {
        let generations = replay(vec![version(
            2,
            1,
            5,
            Fact::Episode(episode(kind::NUGGER, d(2024, 1, 1), None)),
        )]);
        assert!(generations.is_empty());
    }

    /// For many random clients and days, the segment holding the day says
    /// what the facts say on that day, computed the long way.
    #[test]
    fn every_day_agrees_with_the_facts() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let origin = d(2020, 1, 1);
        for _ in 0..500 {
            let day = |next: &mut dyn FnMut(u64) -> u64| origin + chrono::Days::new(next(60));
            let kinds = [
                kind::BIJSTAND,
                kind::IOAW,
                kind::IOAZ,
                kind::ANW,
                kind::NUGGER,
            ];
            let episodes = (0..next(4))
                .map(|_| {
                    let start = day(&mut next);
                    let end = (next(3) > 0).then(|| start + chrono::Days::new(next(20)));
                    episode(kinds[next(5) as usize], start, end)
                })
                .collect();
            let fases = (0..next(3))
                .map(|_| dated(day(&mut next), format!("FASE_{}", next(4) + 1)))
                .collect();
            let doelgroepen = (0..next(3))
                .map(|_| {
                    let codes = (0..next(3)).map(|i| format!("G{}", next(3) + i)).collect();
                    dated(day(&mut next), codes)
                })
                .collect();
            let client = Facts {
                birth_date: born(),
                episodes,
                fases,
                doelgroepen,
            };
            let segments = segments(&client);
            assert_well_formed(&segments);
            for offset in 0..90 {
                let day = origin - chrono::Days::new(5) + chrono::Days::new(offset);
                let segment = on(&segments, day);
                let active: Vec<&Episode> = client
                    .episodes
                    .iter()
                    .filter(|e| e.active_on(day))
                    .collect();
                assert_eq!(segment.kinds, active.iter().fold(0, |k, e| k | e.kind));
                assert_eq!(segment.first_start, active.iter().map(|e| e.start).min());
                let before = day.pred_opt().unwrap();
                let active_before = client.episodes.iter().filter(|e| e.active_on(before));
                if segment.valid_from == Some(day) {
                    assert_eq!(
                        segment.kinds_before,
                        active_before.fold(0, |k, e| k | e.kind)
                    );
                }
                assert_eq!(
                    segment.next_bijstand_start,
                    client
                        .episodes
                        .iter()
                        .filter(|e| e.kind & kind::BIJSTAND_KINDS != 0 && e.start > day)
                        .map(|e| e.start)
                        .min()
                );
                let in_bijstand_on = |day: NaiveDate| {
                    client
                        .episodes
                        .iter()
                        .any(|e| e.kind & kind::BIJSTAND_KINDS != 0 && e.active_on(day))
                };
                let flows = |into: bool| {
                    (1..200).map(|n| day + chrono::Days::new(n)).find(|later| {
                        let before = later.pred_opt().unwrap();
                        in_bijstand_on(*later) == into && in_bijstand_on(before) != into
                    })
                };
                assert_eq!(
                    segment.next_instroom,
                    flows(true),
                    "next instroom after {day}"
                );
                assert_eq!(
                    segment.next_uitstroom,
                    flows(false),
                    "next uitstroom after {day}"
                );
                assert_eq!(
                    segment.is_instroom() && segment.valid_from == Some(day),
                    in_bijstand_on(day) && !in_bijstand_on(before)
                );
                assert_eq!(segment.fase.as_ref(), in_force(&client.fases, day));
                let mut codes: Vec<String> = in_force(&client.doelgroepen, day)
                    .cloned()
                    .unwrap_or_default();
                codes.sort();
                codes.dedup();
                assert_eq!(
                    segment.doelgroepen.clone().unwrap_or_default(),
                    codes.join(",")
                );
            }
        }
    }

    #[test]
    fn kind_codes_have_distinct_bits() {
        let bits: BTreeSet<u8> = kind::ALL.iter().map(|(_, b)| *b).collect();
        assert_eq!(bits.len(), kind::ALL.len());
        assert_eq!(kind::bit("IOAZ"), Some(kind::IOAZ));
        assert_eq!(kind::bit("WW"), None);
    }
}
