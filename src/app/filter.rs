//! Filter queries for the Timeline (`author:sara type:call since:7d renewal`) and their fast matching.
//!
//! A query is whitespace-separated tokens; `"…"` keeps spaces inside one token. `author:`,
//! `type:`, `since:` and `until:` are filter tokens; everything else (including unknown
//! `foo:bar`) is free text. A token that does not parse is reported in [`Parsed::error`] and
//! skipped, so a half-typed date never empties the list.
//!
//! Free text is split into words and every word must match the note: its subject, its text or
//! its author's name. A word matches a piece of the note (a run of non-whitespace, "a note
//! word") when it occurs in it, ignoring case (and accents, unless the word has some), or —
//! typo tolerance — when nucleo's fuzzy score over that piece is high enough (see
//! `fuzzy_threshold`). Matching
//! each note word on its own is what keeps long prose from matching every short query as a
//! scattered subsequence. To keep narrowing exact (typing one more letter can only remove
//! notes), a word matches only if every prefix of it matches too; that means the first three
//! letters must be typed right.
//!
//! [`Filter::matches`] checks one note (the CLI streams pages through it); [`FilterIndex`]
//! gives the same answers over a whole timeline fast enough to run on every keystroke.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use aho_corasick::{AhoCorasick, MatchKind};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use crate::model::{Capabilities, Note, NoteKind, NoteQuery};
use crate::when::parse_when;

/// A parsed filter query. Built by [`Filter::parse`] from what is typed in the filter bar, or
/// directly (the CLI's flags).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// `author:` tokens; a note matches if any of them is a case-insensitive substring of its
    /// author's name or email.
    pub authors: Vec<String>,
    /// `type:note|notes|call|calls|<other>` (a provider's own type is compared ignoring case).
    pub kind: Option<NoteKind>,
    /// Inclusive; a date means the start of that day in the account's time zone.
    pub since: Option<Timestamp>,
    /// Inclusive; a date means the end of that day in the account's time zone.
    pub until: Option<Timestamp>,
    /// Free text, trimmed; each whitespace-separated word must match.
    pub text: String,
}

/// The result of parsing a query: the filter, and the first problem found, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub filter: Filter,
    /// One line about the first token that did not parse; that token is left out of
    /// `filter`, everything else applies.
    pub error: Option<String>,
}

const SINCE_ERROR: &str = "since: expects a date like 2026-10-01 or 7d";
const UNTIL_ERROR: &str = "until: expects a date like 2026-10-01 or 7d";

impl Filter {
    /// Parses what was typed in the filter bar. `now` and `tz` resolve relative and calendar
    /// dates (`7d`, `today`, `2026-10-01`).
    pub fn parse(input: &str, now: Timestamp, tz: &TimeZone) -> Parsed {
        let mut filter = Filter::default();
        let mut error = None;
        let mut words: Vec<String> = Vec::new();
        for span in token_spans(input) {
            let raw = &input[span];
            let Some((key, value)) = key_token(raw) else {
                words.push(raw.replace('"', ""));
                continue;
            };
            // A key with nothing after it yet is still being typed: not an error.
            if value.is_empty() {
                continue;
            }
            match key {
                Key::Author => filter.authors.push(value),
                Key::Type => filter.kind = Some(parse_type(&value)),
                Key::Since => match parse_bound(&value, Bound::Since, now, tz) {
                    Some(at) => filter.since = Some(at),
                    None => {
                        error.get_or_insert(SINCE_ERROR);
                    }
                },
                Key::Until => match parse_bound(&value, Bound::Until, now, tz) {
                    Some(at) => filter.until = Some(at),
                    None => {
                        error.get_or_insert(UNTIL_ERROR);
                    }
                },
            }
        }
        filter.text = words
            .iter()
            .flat_map(|w| w.split_whitespace())
            .collect::<Vec<_>>()
            .join(" ");
        Parsed {
            filter,
            error: error.map(str::to_string),
        }
    }

    /// True when the filter keeps every note.
    pub fn is_empty(&self) -> bool {
        self.authors.is_empty()
            && self.kind.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && self.text.trim().is_empty()
    }

    /// Whether one note passes: the same answer [`FilterIndex::run`] gives. To check many
    /// notes, [`Filter::matcher`] avoids preparing the filter again for each.
    pub fn matches(&self, note: &Note) -> bool {
        self.matcher().matches(note)
    }

    /// The filter prepared for checking many notes one at a time.
    pub fn matcher(&self) -> NoteMatcher {
        NoteMatcher {
            compiled: Compiled::new(self),
            scratch: Scratch::default(),
        }
    }

    /// The part of the filter the provider can apply itself, on top of `base`. The client
    /// still applies the whole filter to what comes back, so this only saves transfer.
    pub fn server_query(&self, caps: &Capabilities, base: NoteQuery) -> NoteQuery {
        let mut query = base;
        if caps.server_type_filter && matches!(self.kind, Some(NoteKind::Note | NoteKind::Call)) {
            query.kind = self.kind.clone();
        }
        if caps.server_author_filter {
            if let [author] = self.authors.as_slice() {
                let author = author.trim();
                if author.contains('@') {
                    query.author_email = Some(author.to_string());
                }
            }
        }
        query
    }
}

/// A [`Filter`] prepared for checking notes one by one (the CLI's streamed listing).
pub struct NoteMatcher {
    compiled: Compiled,
    scratch: Scratch,
}

impl NoteMatcher {
    pub fn matches(&mut self, note: &Note) -> bool {
        let c = &self.compiled;
        let name = note.author_name.as_deref();
        c.kind.as_ref().is_none_or(|k| k.matches(&note.kind))
            && (c.authors.is_empty()
                || author_matches(&c.authors, name, note.author_email.as_deref()))
            && c.since.is_none_or(|since| note.created_at >= since)
            && c.until.is_none_or(|until| note.created_at <= until)
            && c.words.iter().all(|word| {
                let s = &mut self.scratch;
                name.is_some_and(|n| word_in_hay(word, n, n.is_ascii(), s))
                    || note
                        .subject
                        .as_deref()
                        .is_some_and(|sub| word_in_hay(word, sub, sub.is_ascii(), s))
                    || word_in_hay(word, &note.text, note.text.is_ascii(), s)
            })
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Author,
    Type,
    Since,
    Until,
}

impl Key {
    fn parse(name: &str) -> Option<Key> {
        [
            ("author", Key::Author),
            ("type", Key::Type),
            ("since", Key::Since),
            ("until", Key::Until),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, key)| key)
    }
}

/// Byte ranges of the tokens of `input`: runs of non-whitespace, where a `"` … `"` section
/// (closed or not) keeps its whitespace inside the token.
fn token_spans(input: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in input.char_indices() {
        if c == '"' {
            quoted = !quoted;
        }
        let separator = c.is_whitespace() && !quoted;
        match (start, separator) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                spans.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push(s..input.len());
    }
    spans
}

/// A filter token's key and its value (quotes removed, trimmed); `None` for free text.
fn key_token(raw: &str) -> Option<(Key, String)> {
    let (name, value) = raw.split_once(':')?;
    let key = Key::parse(name)?;
    Some((key, value.replace('"', "").trim().to_string()))
}

fn parse_type(value: &str) -> NoteKind {
    match value.to_lowercase().as_str() {
        "note" | "notes" => NoteKind::Note,
        "call" | "calls" => NoteKind::Call,
        _ => NoteKind::Other(value.to_string()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Since,
    Until,
}

/// A `since:`/`until:` value: `today`, `yesterday` and `YYYY-MM-DD` are whole days in `tz`
/// (since takes the first instant, until the last); `7d`, `2w`, `1w2d`, `3h` are that long
/// before `now`; anything else the editor's "When" field takes (`-2h`, RFC 3339, …) is that
/// instant.
fn parse_bound(value: &str, bound: Bound, now: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
    let value = value.trim();
    let today = || now.to_zoned(tz.clone()).date();
    let day = if value.eq_ignore_ascii_case("today") {
        Some(today())
    } else if value.eq_ignore_ascii_case("yesterday") {
        Some(today().yesterday().ok()?)
    } else if value.len() == 10 && value.as_bytes().get(4) == Some(&b'-') {
        Some(value.parse::<Date>().ok()?)
    } else {
        None
    };
    if let Some(day) = day {
        let zoned = day.to_zoned(tz.clone()).ok()?;
        let edge = match bound {
            Bound::Since => zoned.start_of_day(),
            Bound::Until => zoned.end_of_day(),
        };
        return edge.ok().map(|z| z.timestamp());
    }
    // "7d" is the editor's "-7d": reusing its parser keeps units and limits the same.
    if value.starts_with(|c: char| c.is_ascii_digit()) {
        if let Ok(at) = parse_when(&format!("-{value}"), now, tz) {
            return Some(at);
        }
    }
    parse_when(value, now, tz).ok()
}

/// Rewrites one token kind in a query string, keeping everything else as typed:
/// `set_token("type:call renewal", "type", Some("note")) == "type:note renewal"`. `None`
/// removes every token of that key; values with spaces are quoted (`author:"Sara Lee"`). A
/// token that was not there is added after the last filter token, or at the start. Used by the
/// author picker and the type cycle, which edit the query text so that the bar and the filter
/// never disagree.
pub fn set_token(input: &str, key: &str, value: Option<&str>) -> String {
    let key = key.trim_end_matches(':');
    let new_token = value.map(|v| format!("{key}:{}", quote_value(v)));
    let spans = token_spans(input);
    let same_key = |span: &Range<usize>| {
        input[span.clone()]
            .split_once(':')
            .is_some_and(|(name, _)| name.eq_ignore_ascii_case(key))
    };
    let matching: Vec<Range<usize>> = spans.iter().filter(|s| same_key(s)).cloned().collect();
    let Some(first) = matching.first() else {
        let Some(new_token) = new_token else {
            return input.to_string();
        };
        let last_filter_token = spans
            .iter()
            .rfind(|s| key_token(&input[(*s).clone()]).is_some());
        return match last_filter_token {
            Some(s) => format!("{} {new_token}{}", &input[..s.end], &input[s.end..]),
            None if input.trim().is_empty() => new_token,
            None => format!("{new_token} {}", input.trim_start()),
        };
    };
    // Rebuilt token by token: a removed token goes with the whitespace before it; the input's
    // leading and trailing whitespace stay (the cursor may be after a trailing space).
    let mut out = String::with_capacity(input.len() + 16);
    let mut gap_start = 0;
    let mut kept_any = false;
    for span in &spans {
        let gap = &input[gap_start..span.start];
        gap_start = span.end;
        let text = if span == first {
            match &new_token {
                Some(token) => token.as_str(),
                None => continue,
            }
        } else if matching.contains(span) {
            continue;
        } else {
            &input[span.clone()]
        };
        let leading = spans.first().map_or("", |s| &input[..s.start]);
        out.push_str(if kept_any { gap } else { leading });
        out.push_str(text);
        kept_any = true;
    }
    if kept_any {
        out.push_str(&input[gap_start..]);
    }
    out
}

fn quote_value(value: &str) -> String {
    let value = value.replace('"', "");
    if value.is_empty() || value.contains(char::is_whitespace) {
        format!("\"{value}\"")
    } else {
        value
    }
}

// ---------------------------------------------------------------------------------------------
// Authors

/// One author of an account's notes, for the author picker and Tab completion.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorCount {
    pub name: Option<String>,
    pub email: Option<String>,
    pub count: usize,
}

impl AuthorCount {
    /// "Sara Lee <sara@x.com>", or whichever of the two exists.
    pub fn label(&self) -> String {
        match (&self.name, &self.email) {
            (Some(name), Some(email)) => format!("{name} <{email}>"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => String::new(),
        }
    }

    /// What `author:` takes to pick this author: the email if there is one, else the name.
    pub fn token_value(&self) -> String {
        self.email
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_default()
    }
}

/// The distinct authors of `notes` with how many notes each wrote, most first, then by label.
/// The same email (ignoring case) is the same author; without an email, the same name is.
/// The name shown is the first one met (the newest, as timelines are newest first).
pub fn authors(notes: &[Note]) -> Vec<AuthorCount> {
    let mut out: Vec<AuthorCount> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for note in notes {
        let name = note
            .author_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let email = note
            .author_email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let key = match (email, name) {
            (Some(email), _) => format!("e:{}", email.to_lowercase()),
            (None, Some(name)) => format!("n:{name}"),
            (None, None) => continue,
        };
        match seen.get(&key) {
            Some(&i) => {
                let author = &mut out[i];
                author.count += 1;
                if author.name.is_none() {
                    author.name = name.map(str::to_string);
                }
            }
            None => {
                seen.insert(key, out.len());
                out.push(AuthorCount {
                    name: name.map(str::to_string),
                    email: email.map(str::to_string),
                    count: 1,
                });
            }
        }
    }
    out.sort_by_cached_key(|a| {
        (
            std::cmp::Reverse(a.count),
            a.label().to_lowercase(),
            a.label(),
        )
    });
    out
}

/// Tab completion of a trailing `author:<prefix>` token: the token values of the authors
/// whose name or email contains the prefix (ignoring case), most notes first. Empty when the
/// last token is not `author:` (or the input ends with a space).
pub fn author_completions(input: &str, authors: &[AuthorCount]) -> Vec<String> {
    let Some(span) = token_spans(input).pop().filter(|s| s.end == input.len()) else {
        return Vec::new();
    };
    let Some((Key::Author, prefix)) = key_token(&input[span]) else {
        return Vec::new();
    };
    let prefix = prefix.to_lowercase();
    let contains = |field: &Option<String>| {
        field
            .as_deref()
            .is_some_and(|f| f.to_lowercase().contains(&prefix))
    };
    let mut found: Vec<&AuthorCount> = authors
        .iter()
        .filter(|a| contains(&a.name) || contains(&a.email))
        .collect();
    found.sort_by_key(|a| std::cmp::Reverse(a.count));
    let mut values: Vec<String> = Vec::with_capacity(found.len());
    for author in found {
        let value = author.token_value();
        if !value.is_empty() && !values.contains(&value) {
            values.push(value);
        }
    }
    values
}

/// Replaces the trailing `author:` token of `input` with `author:<value>` (quoted if needed):
/// what Tab does with a completion from [`author_completions`]. Input without a trailing
/// author token gets the token appended.
pub fn complete_author(input: &str, value: &str) -> String {
    let token = format!("author:{}", quote_value(value));
    match token_spans(input).pop().filter(|s| s.end == input.len()) {
        Some(span) if matches!(key_token(&input[span.clone()]), Some((Key::Author, _))) => {
            format!("{}{token}", &input[..span.start])
        }
        _ if input.trim().is_empty() => token,
        _ if input.ends_with(char::is_whitespace) => format!("{input}{token}"),
        _ => format!("{input} {token}"),
    }
}

/// Whether any of `needles` (trimmed, lowercase) is in the author's name or email, ignoring
/// case: [`Note::author_matches`] for several needles at once.
fn author_matches(needles: &[String], name: Option<&str>, email: Option<&str>) -> bool {
    let fields: Vec<String> = [name, email]
        .into_iter()
        .flatten()
        .map(str::to_lowercase)
        .collect();
    needles
        .iter()
        .any(|needle| fields.iter().any(|f| f.contains(needle.as_str())))
}

// ---------------------------------------------------------------------------------------------
// Highlighting

/// Byte ranges of `line` to highlight for the free text `text`: each word's case-insensitive
/// occurrences; a word that does not occur in the line shows where it matched fuzzily (the
/// note words it matches by the filter's rules, marked at nucleo's match positions). Sorted,
/// non-overlapping, on char boundaries.
pub fn highlight(text: &str, line: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut scratch = Scratch::default();
    for typed in text.split_whitespace() {
        let found = ranges.len();
        substring_ranges(typed, line, &mut ranges);
        if ranges.len() == found {
            fuzzy_ranges(&Word::new(typed), line, &mut scratch, &mut ranges);
        }
    }
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

fn substring_ranges(word: &str, line: &str, out: &mut Vec<Range<usize>>) {
    if word.is_ascii() {
        // ASCII bytes never occur inside a multi-byte character, so these are char boundaries.
        out.extend(Finder::new(word.as_bytes()).ranges(line.as_bytes()));
        return;
    }
    let lower = |c: char| nucleo_matcher::chars::to_lower_case(c);
    let mut from = 0;
    for (i, _) in line.char_indices() {
        if i < from {
            continue;
        }
        let mut end = i;
        let mut rest = line[i..].chars();
        let all = word.chars().all(|w| {
            rest.next().is_some_and(|c| {
                end += c.len_utf8();
                lower(c) == lower(w)
            })
        });
        if all {
            out.push(i..end);
            from = end;
        }
    }
}

fn fuzzy_ranges(word: &Word, line: &str, s: &mut Scratch, out: &mut Vec<Range<usize>>) {
    let Some(link) = word.links.last() else {
        return;
    };
    let mut start = 0;
    for token in line.split(char::is_whitespace) {
        let offset = start;
        start += token.len()
            + line[offset + token.len()..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
        if token.is_empty() || !token_matches(word, token, s) {
            continue;
        }
        let Scratch { matcher, chars } = s;
        let matcher = matcher.get_or_insert_with(|| Matcher::new(Config::DEFAULT));
        let hay = utf32(token, chars);
        let mut indices = Vec::new();
        if link.sub.indices(hay, matcher, &mut indices).is_none() {
            indices.clear();
            if let Some(fuzzy) = &link.fuzzy {
                fuzzy.indices(hay, matcher, &mut indices);
            }
        }
        let positions: Vec<(usize, char)> = token.char_indices().collect();
        for index in indices {
            if let Some(&(at, c)) = positions.get(index as usize) {
                out.push(offset + at..offset + at + c.len_utf8());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Word matching

/// Words shorter than this match only where they occur: a two- or three-letter word with a
/// letter skipped is too easy to find by accident.
const FUZZY_MIN_CHARS: usize = 4;
/// The part of a word that must be typed right: every prefix must match (so that narrowing is
/// exact), and prefixes shorter than `FUZZY_MIN_CHARS` match only exactly.
const HEAD: usize = FUZZY_MIN_CHARS - 1;
/// Longer words (pasted text, ids) match only where they occur, which bounds the work per word.
const FUZZY_MAX_CHARS: usize = 32;

// nucleo-matcher 0.3.1's scoring (src/score.rs, src/config.rs), for `fuzzy_threshold`.
/// Every matched character.
const SCORE_MATCH: u32 = 16;
/// Bonus for a character right after whitespace (and the start of the haystack); the
/// needle's first character gets it twice (`BONUS_FIRST_CHAR_MULTIPLIER`), and the
/// characters continuing a run started on a boundary get it again.
const BONUS_BOUNDARY_WHITE: u32 = 10;
/// The least bonus for a character continuing a run (`BONUS_CONSECUTIVE`).
const BONUS_CONSECUTIVE: u32 = 4;
/// A gap costs this, plus 1 (`PENALTY_GAP_EXTENSION`) per further skipped character.
const PENALTY_GAP_START: u32 = 3;

/// The least nucleo score for an `n`-character word to match a note word fuzzily.
///
/// It is the score of a word typed from the start of a note word with one letter left out in
/// the worst place, right after the first: the first letter scores `16 + 2×10`, the gap costs
/// 3, the letter after it scores 16 (no bonus: it is inside the word) and the remaining `n − 2`
/// letters continue that run at `16 + 4` each: `36 − 3 + 16 + 20(n − 2) = 20n + 9`
/// ("renwal" in "Renewal" scores 141 ≥ 129). What it rejects: anything starting in the middle
/// of a run of letters, which scores at most `16 + 20(n − 1) = 20n − 4` even with no gap at
/// all, and letters spread over a note word ("rene" in "reference" scores 85 < 89). Letters
/// spread over several note words never match at all, as each note word is matched on its own.
const fn fuzzy_threshold(n: usize) -> u32 {
    let n = n as u32;
    (SCORE_MATCH + 2 * BONUS_BOUNDARY_WHITE) - PENALTY_GAP_START
        + SCORE_MATCH
        + n.saturating_sub(2) * (SCORE_MATCH + BONUS_CONSECUTIVE)
}

/// One free-text word, prepared.
struct Word {
    /// Lowercase when ASCII; as typed otherwise. Compared to tell whether a query narrows.
    key: String,
    /// Set when the word is ASCII: the fast byte-level path and the index's prefilters.
    ascii: Option<AsciiWord>,
    /// Prefix `len` is `links[len - 1]`; empty for words longer than `FUZZY_MAX_CHARS`.
    links: Vec<Link>,
    /// The whole word as a substring pattern (used when `links` is empty).
    whole: Atom,
}

struct Link {
    sub: Atom,
    /// From `FUZZY_MIN_CHARS` characters on.
    fuzzy: Option<Atom>,
}

struct AsciiWord {
    lower: Vec<u8>,
    /// Every character's bit (see `MASK_BIT`): a note missing any of them cannot match.
    mask: u64,
    /// Letter pairs a matching note must contain (those of the part that must occur as typed).
    bigrams: Vec<u16>,
    /// On an ASCII note, passing `mask` and `bigrams` is the whole answer: one letter or
    /// digit, or two letters.
    exact: bool,
    /// Searches for the whole word.
    whole: Finder,
    /// For words of `FUZZY_MIN_CHARS..=FUZZY_MAX_CHARS` characters, `prefixes[len - HEAD]`
    /// searches for the first `len < n` characters; each is built on first use (most notes
    /// need the head alone) and then shared by every note and thread.
    prefixes: Vec<OnceLock<Finder>>,
}

fn atom(text: &str, kind: AtomKind) -> Atom {
    Atom::new(
        text,
        CaseMatching::Ignore,
        Normalization::Smart,
        kind,
        false,
    )
}

impl Word {
    fn new(typed: &str) -> Word {
        let chars: Vec<(usize, char)> = typed.char_indices().collect();
        let links = if chars.len() > FUZZY_MAX_CHARS {
            Vec::new()
        } else {
            (1..=chars.len())
                .map(|len| {
                    let prefix = &typed[..chars.get(len).map_or(typed.len(), |&(at, _)| at)];
                    Link {
                        sub: atom(prefix, AtomKind::Substring),
                        fuzzy: (len >= FUZZY_MIN_CHARS).then(|| atom(prefix, AtomKind::Fuzzy)),
                    }
                })
                .collect()
        };
        let ascii = typed
            .is_ascii()
            .then(|| AsciiWord::new(typed.to_ascii_lowercase()));
        Word {
            key: ascii.as_ref().map_or_else(
                || typed.to_string(),
                |a| String::from_utf8_lossy(&a.lower).into(),
            ),
            ascii,
            links,
            whole: atom(typed, AtomKind::Substring),
        }
    }
}

impl AsciiWord {
    fn new(lower: String) -> AsciiWord {
        let lower = lower.into_bytes();
        let n = lower.len();
        let mask = lower.iter().fold(0, |m, &b| m | MASK_BIT[usize::from(b)]);
        let must_occur = if (FUZZY_MIN_CHARS..=FUZZY_MAX_CHARS).contains(&n) {
            &lower[..HEAD]
        } else {
            &lower[..]
        };
        let mut bigrams: Vec<u16> = must_occur
            .windows(2)
            .filter_map(|pair| bigram(pair[0], pair[1]))
            .collect();
        bigrams.sort_unstable();
        bigrams.dedup();
        let exact = match lower.as_slice() {
            [c] => c.is_ascii_alphanumeric(),
            [a, b] => a.is_ascii_alphabetic() && b.is_ascii_alphabetic(),
            _ => false,
        };
        let prefixes = if (FUZZY_MIN_CHARS..=FUZZY_MAX_CHARS).contains(&n) {
            (HEAD..n).map(|_| OnceLock::new()).collect()
        } else {
            Vec::new()
        };
        AsciiWord {
            whole: Finder::new(&lower),
            lower,
            mask,
            bigrams,
            exact,
            prefixes,
        }
    }

    /// Whether the word's first `len` characters occur in `hay` (from `HEAD` on, or the whole
    /// word), and where first.
    fn find(&self, len: usize, hay: &[u8]) -> Option<usize> {
        self.finder(len)?.find(hay)
    }

    fn occurs(&self, len: usize, hay: &[u8]) -> bool {
        self.finder(len).is_some_and(|f| f.is_in(hay))
    }

    fn finder(&self, len: usize) -> Option<&Finder> {
        if len == self.lower.len() {
            return Some(&self.whole);
        }
        let cell = self.prefixes.get(len.checked_sub(HEAD)?)?;
        Some(cell.get_or_init(|| Finder::new(self.lower.get(..len).unwrap_or_default())))
    }
}

/// Per-thread state for matching: nucleo's matcher (allocated on first use; most checks never
/// need it) and a buffer for non-ASCII text.
#[derive(Default)]
struct Scratch {
    matcher: Option<Matcher>,
    chars: Vec<char>,
}

/// `text` for nucleo, one entry per char (not per grapheme, unlike `Utf32Str::new`, so that
/// match positions map straight back to chars).
fn utf32<'a>(text: &'a str, buf: &'a mut Vec<char>) -> Utf32Str<'a> {
    if text.is_ascii() {
        Utf32Str::Ascii(text.as_bytes())
    } else {
        buf.clear();
        buf.extend(text.chars());
        Utf32Str::Unicode(buf)
    }
}

/// Whether `word` matches some note word of `hay` (a subject, a text or a name).
/// `hay_ascii` must be `hay.is_ascii()`, which the index knows without looking.
fn word_in_hay(word: &Word, hay: &str, hay_ascii: bool, s: &mut Scratch) -> bool {
    match &word.ascii {
        Some(a) if hay_ascii => ascii_word_in_ascii(word, a, hay.as_bytes(), s),
        _ => hay
            .split(char::is_whitespace)
            .any(|token| !token.is_empty() && token_matches(word, token, s)),
    }
}

/// `word_in_hay` for ASCII on both sides, without splitting `hay` into words: it looks for the
/// part that must occur as typed, and checks the note word around each place it occurs.
fn ascii_word_in_ascii(word: &Word, a: &AsciiWord, hay: &[u8], s: &mut Scratch) -> bool {
    let n = a.lower.len();
    if !(FUZZY_MIN_CHARS..=FUZZY_MAX_CHARS).contains(&n) {
        return a.whole.is_in(hay);
    }
    let mut from = 0;
    while let Some(at) = hay.get(from..).and_then(|rest| a.find(HEAD, rest)) {
        let at = from + at;
        if hay
            .get(at..at + n)
            .is_some_and(|w| w.eq_ignore_ascii_case(&a.lower))
        {
            return true;
        }
        let start = hay[..at]
            .iter()
            .rposition(|&b| is_space(b))
            .map_or(0, |p| p + 1);
        let end = hay[at..]
            .iter()
            .position(|&b| is_space(b))
            .map_or(hay.len(), |p| at + p);
        if ascii_token_chain(word, a, &hay[start..end], s) {
            return true;
        }
        from = end;
    }
    false
}

/// Whether an ASCII note word that contains the head of `word` matches all of it: the
/// prefixes that occur in it are fine, every longer one must reach the fuzzy threshold.
fn ascii_token_chain(word: &Word, a: &AsciiWord, token: &[u8], s: &mut Scratch) -> bool {
    let n = a.lower.len();
    let mut occurs = HEAD;
    while occurs < n && a.occurs(occurs + 1, token) {
        occurs += 1;
    }
    if occurs == n {
        return true;
    }
    if !can_reach_threshold(token, a.lower[0]) {
        return false;
    }
    let matcher = s
        .matcher
        .get_or_insert_with(|| Matcher::new(Config::DEFAULT));
    word.links.get(occurs..n).is_some_and(|links| {
        links.iter().zip(occurs + 1..).all(|(link, len)| {
            link.fuzzy
                .as_ref()
                .and_then(|f| f.score(Utf32Str::Ascii(token), matcher))
                .is_some_and(|score| u32::from(score) >= fuzzy_threshold(len))
        })
    })
}

/// A cheap necessary condition for some prefix of a word starting with `first` to reach
/// `fuzzy_threshold` in `token`, which spares most nucleo calls. In a note word of letters
/// only, with no lowercase-to-uppercase step, nucleo gives a bonus to its first character
/// alone, so a match starting anywhere else scores at most `16 + 20(n − 1) = 20n − 4`, below
/// the threshold: only a note word starting with the word's first letter can pass. Other note
/// words (digits, punctuation, camelCase) have more places with bonuses and are left to nucleo.
fn can_reach_threshold(token: &[u8], first: u8) -> bool {
    let plain = token.iter().all(u8::is_ascii_alphabetic)
        && !token
            .windows(2)
            .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    !plain
        || token
            .first()
            .is_some_and(|&b| (b | fold_bit(first)) == first)
}

/// The definition of a word matching one note word (`token`, no whitespace): every prefix of
/// the word occurs in it (ignoring case, and accents where the word has none), or, from
/// `FUZZY_MIN_CHARS` characters on, reaches the fuzzy threshold. Words longer than
/// `FUZZY_MAX_CHARS` must occur.
fn token_matches(word: &Word, token: &str, s: &mut Scratch) -> bool {
    if let Some(a) = &word.ascii {
        if token.is_ascii() {
            // Same answer by the byte-level path: for ASCII, a prefix occurs wherever a longer
            // one does, so "every prefix" is "the head, then the fuzzy chain".
            let t = token.as_bytes();
            let n = a.lower.len();
            if !(FUZZY_MIN_CHARS..=FUZZY_MAX_CHARS).contains(&n) {
                return a.whole.is_in(t);
            }
            return a.occurs(HEAD, t) && ascii_token_chain(word, a, t, s);
        }
    }
    token_matches_by_definition(word, token, s)
}

/// `token_matches` spelled out with nucleo alone: the reference the fast paths must agree with.
fn token_matches_by_definition(word: &Word, token: &str, s: &mut Scratch) -> bool {
    let Scratch { matcher, chars } = s;
    let matcher = matcher.get_or_insert_with(|| Matcher::new(Config::DEFAULT));
    let hay = utf32(token, chars);
    if word.links.is_empty() {
        return word.whole.score(hay, matcher).is_some();
    }
    word.links.iter().zip(1..).all(|(link, len)| {
        link.sub.score(hay, matcher).is_some()
            || link.fuzzy.as_ref().is_some_and(|f| {
                f.score(hay, matcher)
                    .is_some_and(|score| u32::from(score) >= fuzzy_threshold(len))
            })
    })
}

/// What `char::is_whitespace` says for an ASCII byte.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The bit that makes an ASCII-lowercase pattern byte also match its uppercase form.
fn fold_bit(p: u8) -> u8 {
    if p.is_ascii_lowercase() { 0x20 } else { 0 }
}

/// A search for one pattern in any number of haystacks, ignoring ASCII case, built once per
/// word and reused for every note. Both ways are aho-corasick's: a short pattern (the head of
/// every word that is searched for note by note) is given as all its case spellings to the
/// packed (Teddy, SIMD) searcher, which checks three bytes at each position at once; the
/// automaton's own case-insensitive mode has only a prefilter on one or two of the pattern's
/// bytes, which in prose fire at nearly every word.
enum Finder {
    /// The empty pattern, which occurs nowhere.
    Nothing,
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

/// Patterns with at most this many letters go to the packed searcher (2^n spellings).
const PACKED_MAX_LETTERS: u32 = 4;

impl Finder {
    fn new(pat: &[u8]) -> Finder {
        if pat.is_empty() {
            return Finder::Nothing;
        }
        let lower = pat.to_ascii_lowercase();
        let letters: Vec<usize> = (0..lower.len())
            .filter(|&i| lower[i].is_ascii_alphabetic())
            .collect();
        if letters.len() <= PACKED_MAX_LETTERS as usize {
            let mut builder = aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                .builder();
            for spelling in 0..1u32 << letters.len() {
                let mut p = lower.clone();
                for (bit, &i) in letters.iter().enumerate() {
                    if spelling >> bit & 1 == 1 {
                        p[i] = p[i].to_ascii_uppercase();
                    }
                }
                builder.add(p);
            }
            // None where Teddy is not available (no SSSE3, or not x86_64/aarch64).
            if let Some(searcher) = builder.build() {
                return Finder::Packed(searcher);
            }
        }
        Finder::Automaton(
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                .build([lower])
                .expect("one pattern is far within aho-corasick's size limits"),
        )
    }

    /// Where the pattern first occurs in `hay`.
    fn find(&self, hay: &[u8]) -> Option<usize> {
        match self {
            Finder::Nothing => None,
            Finder::Packed(p) => p.find(hay).map(|m| m.start()),
            Finder::Automaton(ac) => ac.find(hay).map(|m| m.start()),
        }
    }

    fn is_in(&self, hay: &[u8]) -> bool {
        match self {
            Finder::Automaton(ac) => ac.is_match(hay),
            _ => self.find(hay).is_some(),
        }
    }

    /// Every occurrence in `hay`, left to right, not overlapping.
    fn ranges(&self, hay: &[u8]) -> Vec<Range<usize>> {
        match self {
            Finder::Nothing => Vec::new(),
            Finder::Packed(p) => p.find_iter(hay).map(|m| m.range()).collect(),
            Finder::Automaton(ac) => ac.find_iter(hay).map(|m| m.range()).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Character masks and letter pairs (the index's prefilters)

/// Bits 0–25: letters a–z (either case); 26–35: digits; 36–60: other printable ASCII, 25 to a
/// bit. A note's mask has the bit of every character of its subject and text, and the flags
/// below.
const MASK_BIT: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphabetic() {
            1 << (c.to_ascii_lowercase() - b'a')
        } else if c.is_ascii_digit() {
            1 << (26 + c - b'0')
        } else if c.is_ascii_graphic() {
            1 << (36 + c % 25)
        } else {
            0
        };
        b += 1;
    }
    table
};
/// The note's text has characters outside ASCII.
const TEXT_NON_ASCII: u64 = 1 << 63;
/// The note's subject has characters outside ASCII.
const SUBJECT_NON_ASCII: u64 = 1 << 62;
/// The note has a subject (so that notes without one are never read for it).
const HAS_SUBJECT: u64 = 1 << 61;

/// Letter pairs: 26 × 26 bits per note, kept 64 notes to a word (see `FilterIndex::bigrams`).
const BIGRAMS: usize = 26 * 26;

fn letter(b: u8) -> Option<u8> {
    b.is_ascii_alphabetic()
        .then(|| b.to_ascii_lowercase() - b'a')
}

fn bigram(a: u8, b: u8) -> Option<u16> {
    Some(u16::from(letter(a)?) * 26 + u16::from(letter(b)?))
}

/// Adds `text`'s characters to `mask` and its letter pairs to `pairs` (the note's block of the
/// pair index) as `bit`. Accented letters count as the letter nucleo compares them as.
fn add_features(text: &str, mask: &mut u64, pairs: &mut [u64], bit: u64) {
    let mut m = 0;
    let mut prev: Option<u8> = None;
    let mut pair = |prev: Option<u8>, cur: Option<u8>| {
        if let (Some(p), Some(c)) = (prev, cur) {
            if let Some(word) = pairs.get_mut(usize::from(p) * 26 + usize::from(c)) {
                *word |= bit;
            }
        }
    };
    if text.is_ascii() {
        for &b in text.as_bytes() {
            m |= MASK_BIT[usize::from(b)];
            let cur = letter(b);
            pair(prev, cur);
            prev = cur;
        }
    } else {
        for c in text.chars() {
            let folded = if c.is_ascii() {
                c
            } else {
                nucleo_matcher::chars::to_lower_case(nucleo_matcher::chars::normalize(c))
            };
            let cur = u8::try_from(folded)
                .ok()
                .filter(u8::is_ascii)
                .and_then(|b| {
                    m |= MASK_BIT[usize::from(b)];
                    letter(b)
                });
            pair(prev, cur);
            prev = cur;
        }
    }
    *mask |= m;
}

// ---------------------------------------------------------------------------------------------
// The compiled filter

#[derive(Debug, Clone, PartialEq, Eq)]
enum KindKey {
    Note,
    Call,
    /// Lowercase.
    Other(String),
}

impl KindKey {
    fn of(kind: &NoteKind) -> KindKey {
        match kind {
            NoteKind::Note => KindKey::Note,
            NoteKind::Call => KindKey::Call,
            NoteKind::Other(s) => KindKey::Other(s.to_lowercase()),
        }
    }

    fn matches(&self, kind: &NoteKind) -> bool {
        *self == KindKey::of(kind)
    }
}

struct Compiled {
    /// Trimmed, lowercase.
    authors: Vec<String>,
    kind: Option<KindKey>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    words: Vec<Word>,
}

impl Compiled {
    fn new(filter: &Filter) -> Compiled {
        Compiled {
            authors: filter
                .authors
                .iter()
                .map(|a| a.trim().to_lowercase())
                .collect(),
            kind: filter.kind.as_ref().map(KindKey::of),
            since: filter.since,
            until: filter.until,
            words: filter.text.split_whitespace().map(Word::new).collect(),
        }
    }

    fn narrow_key(&self) -> NarrowKey {
        NarrowKey {
            authors: self.authors.clone(),
            kind: self.kind.clone(),
            since: self.since,
            until: self.until,
            words: self
                .words
                .iter()
                .map(|w| (w.key.clone(), w.ascii.is_some()))
                .collect(),
        }
    }
}

/// What a previous run is remembered by, to tell whether a new filter only narrows it.
#[derive(Debug, Clone, PartialEq)]
struct NarrowKey {
    authors: Vec<String>,
    kind: Option<KindKey>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    /// (key, is ASCII)
    words: Vec<(String, bool)>,
}

impl NarrowKey {
    /// Whether every note `new` keeps is one `self` keeps.
    fn narrowed_by(&self, new: &NarrowKey) -> bool {
        // Author tokens are alternatives: each new one must contain an old one.
        let authors = self.authors.is_empty()
            || (!new.authors.is_empty()
                && new
                    .authors
                    .iter()
                    .all(|n| self.authors.iter().any(|o| n.contains(o.as_str()))));
        let kind = self.kind.is_none() || self.kind == new.kind;
        let since = self
            .since
            .is_none_or(|old| new.since.is_some_and(|n| n >= old));
        let until = self
            .until
            .is_none_or(|old| new.until.is_some_and(|n| n <= old));
        // A longer ASCII word matches only where its prefixes do (every prefix must match);
        // other words only narrow when unchanged.
        let words = self.words.iter().all(|(old, old_ascii)| {
            new.words.iter().any(|(word, ascii)| {
                word == old || (*old_ascii && *ascii && word.starts_with(old.as_str()))
            })
        });
        authors && kind && since && until && words
    }
}

// ---------------------------------------------------------------------------------------------
// The index

/// The per-list search index, kept beside a `Vec<Note>` (newest first) that only grows by
/// appending pages or is rebuilt. It holds no text: per note an author id, a kind id, the
/// time, a character mask and letter-pair bits (about 115 bytes a note), and reads the text
/// from the notes passed to [`FilterIndex::run`].
pub struct FilterIndex {
    author: Vec<u32>,
    kind: Vec<u32>,
    created: Vec<Timestamp>,
    mask: Vec<u64>,
    /// One bitmap per letter pair (`BIGRAMS` of them): bit `i % 64` of word `i / 64` says
    /// note `i` has that pair in its subject or text. A run reads only the pairs of the words
    /// typed, each front to back.
    bigrams: Vec<Vec<u64>>,
    authors: Vec<AuthorEntry>,
    author_ids: HashMap<(Option<String>, Option<String>), u32>,
    /// Kind ids from 2 on, by lowercase name (0 is `Note`, 1 is `Call`).
    kinds: HashMap<String, u32>,
    last: Option<Last>,
    threads: usize,
    /// `PARALLEL_MIN` and `CHUNK`, as fields so that tests can exercise the threads on a small
    /// list.
    parallel_min: usize,
    chunk: usize,
}

struct AuthorEntry {
    name: Option<String>,
    email: Option<String>,
}

/// The previous run: its filter, its matches, and how many notes it looked at.
struct Last {
    key: NarrowKey,
    matches: Vec<u32>,
    covered: usize,
}

const NOTE_KIND: u32 = 0;
const CALL_KIND: u32 = 1;
/// Kind ids from here on are providers' own types.
const OTHER_KINDS: u32 = 2;

/// Below this many candidates a run stays on the calling thread: spawning costs more.
const PARALLEL_MIN: usize = 20_000;
/// Candidates per unit of work handed to a thread.
const CHUNK: usize = 8_192;
/// Notes whose text is fetched together (see `Batch`).
const BATCH: usize = 32;
impl Default for FilterIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl FilterIndex {
    pub fn new() -> Self {
        FilterIndex {
            author: Vec::new(),
            kind: Vec::new(),
            created: Vec::new(),
            mask: Vec::new(),
            bigrams: vec![Vec::new(); BIGRAMS],
            authors: Vec::new(),
            author_ids: HashMap::new(),
            kinds: HashMap::new(),
            last: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(16)),
            parallel_min: PARALLEL_MIN,
            chunk: CHUNK,
        }
    }

    /// Indexes `notes` from scratch.
    pub fn rebuild(&mut self, notes: &[Note]) {
        let (threads, parallel_min, chunk) = (self.threads, self.parallel_min, self.chunk);
        *self = FilterIndex::new();
        (self.threads, self.parallel_min, self.chunk) = (threads, parallel_min, chunk);
        self.push(notes);
    }

    /// Indexes `notes`, appended at the end of the list.
    pub fn push(&mut self, notes: &[Note]) {
        // Indices are u32 (half the memory of usize for results); a list that long is not
        // indexed past that point.
        let room = (u32::MAX as usize).saturating_sub(self.len());
        let notes = &notes[..notes.len().min(room)];
        if notes.is_empty() {
            return;
        }
        let first = self.len();
        let total = first + notes.len();
        self.author.resize(total, 0);
        self.kind.resize(total, NOTE_KIND);
        self.created.resize(total, Timestamp::UNIX_EPOCH);
        self.mask.resize(total, 0);
        for column in &mut self.bigrams {
            column.resize(total.div_ceil(64), 0);
        }
        // Parts of whole 64-note words (the first may start inside one), so that no two
        // threads write the same word of a pair bitmap.
        let threads = self
            .threads
            .min(notes.len() / self.parallel_min.max(1) + 1)
            .max(1);
        let per_part = notes.len().div_ceil(threads).next_multiple_of(64);
        let mut bounds = vec![first];
        while let Some(&last) = bounds.last().filter(|&&b| b < total) {
            bounds.push((last + per_part).next_multiple_of(64).min(total));
        }
        let mut parts: Vec<Part> = bounds
            .windows(2)
            .map(|w| Part {
                range: w[0]..w[1],
                pairs: Vec::with_capacity(BIGRAMS),
            })
            .collect();
        for column in &mut self.bigrams {
            let mut rest = &mut column[first / 64..];
            let mut word = first / 64;
            for part in &mut parts {
                let end_word = part.range.end.div_ceil(64);
                let (mine, others) = rest.split_at_mut(end_word - word);
                part.pairs.push(mine);
                rest = others;
                word = end_word;
            }
        }
        let columns = IndexColumns {
            author: &mut self.author[first..],
            kind: &mut self.kind[first..],
            created: &mut self.created[first..],
            mask: &mut self.mask[first..],
        };
        let locals = index_parts(parts, columns, first, notes);
        // The parts named authors and kinds by their own numbers: renumber them for the index.
        for (range, local) in locals {
            let authors: Vec<u32> = local
                .authors
                .iter()
                .map(|&(name, email)| self.author_id(name, email))
                .collect();
            let kinds: Vec<u32> = local.kinds.iter().map(|name| self.kind_id(name)).collect();
            for i in range {
                self.author[i] = authors[self.author[i] as usize];
                let kind = self.kind[i];
                if kind >= OTHER_KINDS {
                    self.kind[i] = kinds[(kind - OTHER_KINDS) as usize];
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.author.len()
    }

    pub fn is_empty(&self) -> bool {
        self.author.is_empty()
    }

    /// Bytes the index holds on the heap, for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        self.author.capacity() * 4
            + self.kind.capacity() * 4
            + self.created.capacity() * std::mem::size_of::<Timestamp>()
            + self.mask.capacity() * 8
            + self.bigrams.iter().map(|c| c.capacity() * 8).sum::<usize>()
            + self.last.as_ref().map_or(0, |l| l.matches.capacity() * 4)
    }

    /// Forgets the previous run, so the next one checks every note.
    pub fn forget_previous(&mut self) {
        self.last = None;
    }

    /// Indices into `notes` (the slice the index was built from) of the matching notes, in
    /// list order. Remembers the run: when the next filter only narrows this one (a word
    /// typed further, a token added or made stricter) only these matches, and notes pushed
    /// since, are checked again.
    ///
    /// `notes` longer than the index is taken as pages appended since (they are indexed
    /// first); shorter means the list was replaced, and the index is rebuilt.
    pub fn run(&mut self, filter: &Filter, notes: &[Note]) -> Vec<u32> {
        if notes.len() < self.len() {
            self.rebuild(notes);
        } else if notes.len() > self.len() {
            self.push(&notes[self.len()..]);
        }
        let len = self.len();
        if filter.is_empty() {
            self.last = None;
            return (0..len as u32).collect();
        }
        let compiled = Compiled::new(filter);
        let key = compiled.narrow_key();
        let result = match self.plan(&compiled) {
            None => Vec::new(),
            Some(plan) => {
                let candidates = match &self.last {
                    Some(last) if last.key.narrowed_by(&key) => Candidates::Narrow {
                        previous: &last.matches,
                        fresh: last.covered..len,
                    },
                    _ => Candidates::All(len),
                };
                self.evaluate(&plan, notes, candidates)
            }
        };
        self.last = Some(Last {
            key,
            matches: result.clone(),
            covered: len,
        });
        result
    }

    fn author_id(&mut self, name: Option<&str>, email: Option<&str>) -> u32 {
        let key = (name.map(str::to_string), email.map(str::to_string));
        if let Some(&id) = self.author_ids.get(&key) {
            return id;
        }
        let id = self.authors.len() as u32;
        self.authors.push(AuthorEntry {
            name: key.0.clone(),
            email: key.1.clone(),
        });
        self.author_ids.insert(key, id);
        id
    }

    fn kind_id(&mut self, other: &str) -> u32 {
        let next = self.kinds.len() as u32 + OTHER_KINDS;
        *self.kinds.entry(other.to_lowercase()).or_insert(next)
    }

    /// What a run checks per note, worked out once per distinct author and kind. `None` when
    /// nothing can match (a type no note has).
    fn plan<'c>(&self, compiled: &'c Compiled) -> Option<Plan<'c>> {
        let kind = match &compiled.kind {
            None => None,
            Some(KindKey::Note) => Some(NOTE_KIND),
            Some(KindKey::Call) => Some(CALL_KIND),
            Some(KindKey::Other(name)) => Some(*self.kinds.get(name)?),
        };
        let authors = (!compiled.authors.is_empty()).then(|| {
            self.authors
                .iter()
                .map(|a| author_matches(&compiled.authors, a.name.as_deref(), a.email.as_deref()))
                .collect()
        });
        let mut scratch = Scratch::default();
        let mut words: Vec<WordPlan> = compiled
            .words
            .iter()
            .map(|word| WordPlan {
                word,
                by_author: self
                    .authors
                    .iter()
                    .map(|a| {
                        a.name
                            .as_deref()
                            .is_some_and(|n| word_in_hay(word, n, n.is_ascii(), &mut scratch))
                    })
                    .collect(),
            })
            .collect();
        // Longer words are rarer, so checking them first ends most notes' checks sooner.
        words.sort_by_key(|w| std::cmp::Reverse(w.word.key.len()));
        let all_settled = match words.len() {
            0..64 => Some((1u64 << words.len()) - 1),
            64 => Some(u64::MAX),
            // `columns` keeps no count past 64 words: such a query always reads the text.
            _ => None,
        };
        Some(Plan {
            kind,
            authors,
            since: compiled.since,
            until: compiled.until,
            words,
            all_settled,
        })
    }

    fn evaluate(&self, plan: &Plan, notes: &[Note], candidates: Candidates) -> Vec<u32> {
        let chunks = candidates.chunks(self.chunk.max(1));
        let total: usize = chunks.iter().map(Chunk::len).sum();
        let threads = self
            .threads
            .min(total / self.parallel_min.max(1) + 1)
            .max(1);
        let run_chunk = |chunk: &Chunk, s: &mut Scratch, out: &mut Vec<u32>| {
            self.run_chunk(plan, notes, chunk, s, out)
        };
        if threads == 1 {
            let mut s = Scratch::default();
            let mut out = Vec::new();
            for chunk in &chunks {
                run_chunk(chunk, &mut s, &mut out);
            }
            return out;
        }
        // Threads take chunks in turn, so a slow stretch of long notes does not hold up the
        // rest; the pieces are put back in list order at the end.
        let next = AtomicUsize::new(0);
        let work = || {
            let mut s = Scratch::default();
            let mut done: Vec<(usize, Vec<u32>)> = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(chunk) = chunks.get(n) else {
                    break;
                };
                let mut out = Vec::with_capacity(chunk.len());
                run_chunk(chunk, &mut s, &mut out);
                done.push((n, out));
            }
            done
        };
        let mut pieces: Vec<(usize, Vec<u32>)> = std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            let mut pieces = work();
            for helper in helpers {
                // Matching only reads; a panic there is a bug, passed on rather than returning
                // a list with notes missing.
                pieces.extend(
                    helper
                        .join()
                        .unwrap_or_else(|e| std::panic::resume_unwind(e)),
                );
            }
            pieces
        });
        pieces.sort_unstable_by_key(|(n, _)| *n);
        let mut out = Vec::with_capacity(pieces.iter().map(|(_, p)| p.len()).sum());
        for (_, piece) in pieces {
            out.extend(piece);
        }
        out
    }

    /// The notes of `chunk` that pass, into `out`. The index's columns are checked first; the
    /// notes that still need their text go through in batches, each batch's text being
    /// fetched while the one before it is scanned (see `Batch`).
    fn run_chunk(
        &self,
        plan: &Plan,
        notes: &[Note],
        chunk: &Chunk,
        s: &mut Scratch,
        out: &mut Vec<u32>,
    ) {
        let mut filling = Batch::default();
        let mut fetched: Option<Batch> = None;
        let all = plan.all_settled;
        self.candidates(plan, chunk, |i| {
            let Some(settled) = self.columns(plan, i as usize) else {
                return;
            };
            if all == Some(settled) && filling.len == 0 && fetched.is_none() {
                out.push(i);
                return;
            }
            // A note that needs no text still queues behind those that do, to keep list order.
            filling.notes[filling.len] = (i, settled);
            filling.len += 1;
            if filling.len == BATCH {
                let next = std::mem::take(&mut filling).fetch(self, notes, all);
                if let Some(batch) = fetched.replace(next) {
                    self.scan(plan, &batch, s, out);
                }
            }
        });
        if let Some(batch) = fetched {
            self.scan(plan, &batch, s, out);
        }
        self.scan(plan, &filling.fetch(self, notes, all), s, out);
    }

    /// Calls `visit` with the notes of `chunk` that can pass. A whole range (a run with
    /// nothing to narrow from) is first sifted 64 notes at a time, without a branch per note,
    /// by kind, author and the words' character and letter-pair columns: most notes fail
    /// there, and branching on each would be mispredicted often.
    fn candidates(&self, plan: &Plan, chunk: &Chunk, mut visit: impl FnMut(u32)) {
        let range = match chunk {
            Chunk::List(list) => return list.iter().copied().for_each(visit),
            Chunk::Range(range) => range.start as usize..range.end as usize,
        };
        let sifted_words: Vec<(&WordPlan, &AsciiWord)> = plan
            .words
            .iter()
            .filter_map(|w| Some((w, w.word.ascii.as_ref()?)))
            .collect();
        if plan.kind.is_none() && plan.authors.is_none() && sifted_words.is_empty() {
            return range.map(|i| i as u32).for_each(visit);
        }
        let mut block = range.start / 64 * 64;
        while block < range.end {
            let (start, end) = (block.max(range.start), (block + 64).min(range.end));
            // Bit j stands for note block + j.
            let bit = |i: usize| 1u64 << (i - block);
            let mut pass = (start..end).fold(0, |p, i| p | bit(i));
            if let Some(kind) = plan.kind {
                for i in start..end {
                    pass &= !(u64::from(self.kind[i] != kind) * bit(i));
                }
            }
            if let Some(ok) = &plan.authors {
                for i in start..end {
                    pass &= !(u64::from(!ok[self.author[i] as usize]) * bit(i));
                }
            }
            for &(w, a) in &sifted_words {
                let mut fail = a
                    .bigrams
                    .iter()
                    .fold(0, |f, &b| f | !self.bigrams[usize::from(b)][block / 64]);
                let mut by_author = 0;
                for i in start..end {
                    fail |= u64::from(self.mask[i] & a.mask != a.mask) * bit(i);
                    by_author |= u64::from(w.by_author[self.author[i] as usize]) * bit(i);
                }
                pass &= !(fail & !by_author);
            }
            while pass != 0 {
                visit((block + pass.trailing_zeros() as usize) as u32);
                pass &= pass - 1;
            }
            block += 64;
        }
    }

    /// A note against the plan's columns: `None` when it fails, else the words already
    /// settled (bit `n` for word `n`, up to 64), by the author's name or by the character and
    /// letter-pair columns, which are the whole answer for short words on ASCII notes.
    fn columns(&self, plan: &Plan, i: usize) -> Option<u64> {
        if plan.kind.is_some_and(|k| self.kind[i] != k) {
            return None;
        }
        let author = self.author[i] as usize;
        if plan.authors.as_ref().is_some_and(|ok| !ok[author]) {
            return None;
        }
        if plan.since.is_some() || plan.until.is_some() {
            let created = self.created[i];
            if plan.since.is_some_and(|since| created < since)
                || plan.until.is_some_and(|until| created > until)
            {
                return None;
            }
        }
        let mask = self.mask[i];
        let ascii_note = mask & (TEXT_NON_ASCII | SUBJECT_NON_ASCII) == 0;
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let mut settled = 0u64;
        for (n, w) in plan.words.iter().enumerate() {
            let word_bit = if n < 64 { 1 << n } else { 0 };
            if w.by_author[author] {
                settled |= word_bit;
                continue;
            }
            if let Some(a) = &w.word.ascii {
                if mask & a.mask != a.mask
                    || a.bigrams
                        .iter()
                        .any(|&b| self.bigrams[usize::from(b)][word] & bit == 0)
                {
                    return None;
                }
                if ascii_note && a.exact {
                    settled |= word_bit;
                }
            }
        }
        Some(settled)
    }

    /// The text checks of a batch of notes that passed `columns`.
    fn scan(&self, plan: &Plan, batch: &Batch, s: &mut Scratch, out: &mut Vec<u32>) {
        let notes = batch.notes.iter().zip(&batch.fields).take(batch.len);
        for (&(i, settled), &(text, subject)) in notes {
            if plan.all_settled == Some(settled) {
                out.push(i);
                continue;
            }
            let i = i as usize;
            let mask = self.mask[i];
            let author = self.author[i] as usize;
            let subject_ascii = mask & SUBJECT_NON_ASCII == 0;
            let text_ascii = mask & TEXT_NON_ASCII == 0;
            let pass = plan.words.iter().enumerate().all(|(n, w)| {
                (n < 64 && settled & (1 << n) != 0)
                    || w.by_author[author]
                    || subject.is_some_and(|sub| word_in_hay(w.word, sub, subject_ascii, s))
                    || word_in_hay(w.word, text, text_ascii, s)
            });
            if pass {
                out.push(i as u32);
            }
        }
    }
}

/// Notes waiting for their text to be checked. A note's text is behind two pointers (the note,
/// then its heap buffer) that are rarely in cache, and scanning them one by one spends most of
/// its time waiting on memory. So when a batch is full (`fetch`) its notes are read and each
/// text's first byte touched, all in one go so that the loads overlap, and the batch is scanned
/// only after the next one is full, by which time its text has arrived.
struct Batch<'n> {
    notes: [(u32, u64); BATCH],
    /// Text and subject of each note, once fetched.
    fields: [(&'n str, Option<&'n str>); BATCH],
    len: usize,
}

impl Default for Batch<'_> {
    fn default() -> Self {
        Batch {
            notes: [(0, 0); BATCH],
            fields: [("", None); BATCH],
            len: 0,
        }
    }
}

impl<'n> Batch<'n> {
    /// Reads the batch's text pointers and starts loading the texts; notes whose words are
    /// all settled (`all`) are left alone.
    fn fetch(mut self, index: &FilterIndex, notes: &'n [Note], all: Option<u64>) -> Batch<'n> {
        for (field, &(i, settled)) in self.fields.iter_mut().zip(&self.notes).take(self.len) {
            if all == Some(settled) {
                continue;
            }
            if let Some(note) = notes.get(i as usize) {
                // The subject is on another cache line of the note: only read when there is one.
                let subject = if index.mask[i as usize] & HAS_SUBJECT != 0 {
                    note.subject.as_deref()
                } else {
                    None
                };
                *field = (note.text.as_str(), subject);
            }
        }
        // Touch each text's first byte: the loads do not depend on one another, so the CPU
        // has them in flight together, and the texts have arrived when the batch is scanned.
        let touched = self
            .fields
            .iter()
            .take(self.len)
            .fold(0u8, |acc, (text, _)| {
                acc ^ text.as_bytes().first().copied().unwrap_or(0)
            });
        std::hint::black_box(touched);
        self
    }
}

struct Plan<'c> {
    kind: Option<u32>,
    /// Per author id: passes the `author:` tokens.
    authors: Option<Vec<bool>>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    words: Vec<WordPlan<'c>>,
    /// `columns`' answer when every word is settled (`None` past 64 words).
    all_settled: Option<u64>,
}

struct WordPlan<'c> {
    word: &'c Word,
    /// Per author id: the word matches the author's name.
    by_author: Vec<bool>,
}

enum Candidates<'a> {
    All(usize),
    Narrow {
        previous: &'a [u32],
        fresh: Range<usize>,
    },
}

enum Chunk<'a> {
    Range(Range<u32>),
    List(&'a [u32]),
}

impl Chunk<'_> {
    fn len(&self) -> usize {
        match self {
            Chunk::Range(r) => r.len(),
            Chunk::List(l) => l.len(),
        }
    }
}

impl<'a> Candidates<'a> {
    fn chunks(&self, size: usize) -> Vec<Chunk<'a>> {
        let ranges = |range: Range<usize>| {
            (range.start..range.end)
                .step_by(size)
                .map(move |start| Chunk::Range(start as u32..(start + size).min(range.end) as u32))
        };
        match self {
            Candidates::All(len) => ranges(0..*len).collect(),
            Candidates::Narrow { previous, fresh } => previous
                .chunks(size)
                .map(Chunk::List)
                .chain(ranges(fresh.clone()))
                .collect(),
        }
    }
}

/// A stretch of the notes being indexed, for one thread: its list indices and its words of
/// every pair bitmap.
struct Part<'a> {
    range: Range<usize>,
    pairs: Vec<&'a mut [u64]>,
}

/// The per-note columns of the notes being indexed (from the first new one).
struct IndexColumns<'a> {
    author: &'a mut [u32],
    kind: &'a mut [u32],
    created: &'a mut [Timestamp],
    mask: &'a mut [u64],
}

/// The authors and providers' types a part met, numbered in the order met.
#[derive(Default)]
struct LocalNames<'n> {
    authors: Vec<(Option<&'n str>, Option<&'n str>)>,
    kinds: Vec<&'n str>,
}

/// Fills the columns of `notes` (note `first` of the list onward), one thread per part. The
/// author and kind columns get each part's own numbers, returned with the names for the
/// caller to renumber; everything else is final.
fn index_parts<'n>(
    parts: Vec<Part<'_>>,
    mut columns: IndexColumns<'_>,
    first: usize,
    notes: &'n [Note],
) -> Vec<(Range<usize>, LocalNames<'n>)> {
    let mut jobs = Vec::with_capacity(parts.len());
    for part in parts {
        let len = part.range.len();
        let (author, rest) = std::mem::take(&mut columns.author).split_at_mut(len);
        columns.author = rest;
        let (kind, rest) = std::mem::take(&mut columns.kind).split_at_mut(len);
        columns.kind = rest;
        let (created, rest) = std::mem::take(&mut columns.created).split_at_mut(len);
        columns.created = rest;
        let (mask, rest) = std::mem::take(&mut columns.mask).split_at_mut(len);
        columns.mask = rest;
        let start = part.range.start - first;
        let part_notes = &notes[start..start + len];
        let cols = IndexColumns {
            author,
            kind,
            created,
            mask,
        };
        jobs.push(move || (part.range.clone(), index_part(part, cols, part_notes)));
    }
    std::thread::scope(|scope| {
        let mut jobs = jobs.into_iter();
        let mine = jobs.next();
        let helpers: Vec<_> = jobs.map(|job| scope.spawn(job)).collect();
        let mut out: Vec<_> = mine.map(|job| job()).into_iter().collect();
        for helper in helpers {
            // The job only reads notes and writes its own slices; a panic there is a bug, and
            // is passed on rather than leaving part of the index unset.
            out.push(
                helper
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
        }
        out
    })
}

fn index_part<'n>(part: Part<'_>, cols: IndexColumns<'_>, notes: &'n [Note]) -> LocalNames<'n> {
    let mut names = LocalNames::default();
    let mut author_ids: HashMap<(Option<&str>, Option<&str>), u32> = HashMap::new();
    let mut kind_ids: HashMap<&str, u32> = HashMap::new();
    // The current word of every pair bitmap, written out when the next word starts.
    let mut pairs = [0u64; BIGRAMS];
    let first_word = part.range.start / 64;
    let mut word = first_word;
    let flush = |pairs: &mut [u64; BIGRAMS], word: usize, out: &mut Vec<&mut [u64]>| {
        for (bits, column) in pairs.iter_mut().zip(out.iter_mut()) {
            if *bits != 0 {
                column[word - first_word] |= *bits;
                *bits = 0;
            }
        }
    };
    let mut out = part.pairs;
    for (j, note) in notes.iter().enumerate() {
        let i = part.range.start + j;
        if i / 64 != word {
            flush(&mut pairs, word, &mut out);
            word = i / 64;
        }
        let key = (note.author_name.as_deref(), note.author_email.as_deref());
        let next = names.authors.len() as u32;
        cols.author[j] = *author_ids.entry(key).or_insert_with(|| {
            names.authors.push(key);
            next
        });
        cols.kind[j] = match &note.kind {
            NoteKind::Note => NOTE_KIND,
            NoteKind::Call => CALL_KIND,
            NoteKind::Other(name) => {
                let next = names.kinds.len() as u32 + OTHER_KINDS;
                *kind_ids.entry(name.as_str()).or_insert_with(|| {
                    names.kinds.push(name.as_str());
                    next
                })
            }
        };
        cols.created[j] = note.created_at;
        let bit = 1u64 << (i % 64);
        let mut mask = 0;
        if let Some(subject) = &note.subject {
            mask |= HAS_SUBJECT;
            if !subject.is_ascii() {
                mask |= SUBJECT_NON_ASCII;
            }
            add_features(subject, &mut mask, &mut pairs, bit);
        }
        if !note.text.is_ascii() {
            mask |= TEXT_NON_ASCII;
        }
        add_features(&note.text, &mut mask, &mut pairs, bit);
        cols.mask[j] = mask;
    }
    flush(&mut pairs, word, &mut out);
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NoteExtras;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// Friday 2026-11-20 14:02:00 UTC.
    fn now() -> Timestamp {
        ts("2026-11-20T14:02:00Z")
    }

    /// Europe/London without the system tzdb: GMT, BST (+1) from the last Sunday of March to
    /// the last Sunday of October.
    fn london() -> TimeZone {
        TimeZone::posix("GMT0BST,M3.5.0/1,M10.5.0").unwrap()
    }

    fn parse(input: &str) -> Parsed {
        Filter::parse(input, now(), &london())
    }

    fn note(text: &str) -> Note {
        Note {
            id: "n".to_string(),
            customer_id: None,
            kind: NoteKind::Note,
            author_name: Some("Sara Lee".to_string()),
            author_email: Some("sara@x.com".to_string()),
            text: text.to_string(),
            call_duration_s: None,
            created_at: ts("2026-11-01T12:00:00Z"),
            updated_at: None,
            subject: None,
            web_url: None,
            extras: NoteExtras::default(),
        }
    }

    fn text_filter(text: &str) -> Filter {
        Filter {
            text: text.to_string(),
            ..Filter::default()
        }
    }

    fn matches_text(query: &str, text: &str) -> bool {
        let mut n = note(text);
        n.author_name = None;
        text_filter(query).matches(&n)
    }

    // --- parsing ---

    #[test]
    fn tokens_and_free_text_parse() {
        let cases: &[(&str, Filter)] = &[
            (
                "author:sara type:call since:2026-10-01 renewal",
                Filter {
                    authors: vec!["sara".into()],
                    kind: Some(NoteKind::Call),
                    since: Some(ts("2026-09-30T23:00:00Z")),
                    text: "renewal".into(),
                    ..Filter::default()
                },
            ),
            (
                r#"author:"Sara Lee"   "sending  quote" Monday"#,
                Filter {
                    authors: vec!["Sara Lee".into()],
                    text: "sending quote Monday".into(),
                    ..Filter::default()
                },
            ),
            (
                "AUTHOR:sara author:adam@x.com Type:Notes",
                Filter {
                    authors: vec!["sara".into(), "adam@x.com".into()],
                    kind: Some(NoteKind::Note),
                    ..Filter::default()
                },
            ),
            (
                "type:calls",
                Filter {
                    kind: Some(NoteKind::Call),
                    ..Filter::default()
                },
            ),
            (
                "type:Meeting",
                Filter {
                    kind: Some(NoteKind::Other("Meeting".into())),
                    ..Filter::default()
                },
            ),
            (
                "foo:bar see:you",
                Filter {
                    text: "foo:bar see:you".into(),
                    ..Filter::default()
                },
            ),
            // A key still being typed is no error and no filter.
            (
                "author: type: renewal",
                Filter {
                    text: "renewal".into(),
                    ..Filter::default()
                },
            ),
            (
                r#""author:sara""#,
                Filter {
                    text: "author:sara".into(),
                    ..Filter::default()
                },
            ),
            ("   ", Filter::default()),
        ];
        for (input, expected) in cases {
            let parsed = parse(input);
            assert_eq!(&parsed.filter, expected, "{input}");
            assert_eq!(parsed.error, None, "{input}");
        }
    }

    #[test]
    fn dates_are_whole_days_in_the_time_zone() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            // BST (+1): the day starts an hour before UTC midnight.
            ("since:2026-10-01", Some("2026-09-30T23:00:00Z"), None),
            (
                "until:2026-10-01",
                None,
                Some("2026-10-01T22:59:59.999999999Z"),
            ),
            // The day BST ends has 25 hours: it ends at midnight GMT.
            (
                "since:2026-10-25 until:2026-10-25",
                Some("2026-10-24T23:00:00Z"),
                Some("2026-10-25T23:59:59.999999999Z"),
            ),
            // GMT in winter.
            ("since:2026-11-20", Some("2026-11-20T00:00:00Z"), None),
            ("since:today", Some("2026-11-20T00:00:00Z"), None),
            ("until:today", None, Some("2026-11-20T23:59:59.999999999Z")),
            ("since:yesterday", Some("2026-11-19T00:00:00Z"), None),
            (
                "until:Yesterday",
                None,
                Some("2026-11-19T23:59:59.999999999Z"),
            ),
            // Relative amounts are counted back from now, in calendar days.
            ("since:7d", Some("2026-11-13T14:02:00Z"), None),
            ("since:2w", Some("2026-11-06T14:02:00Z"), None),
            ("until:3h", None, Some("2026-11-20T11:02:00Z")),
            ("since:1w2d", Some("2026-11-11T14:02:00Z"), None),
            // 30 days back crosses the end of BST: still the same clock time (15:02 BST).
            ("since:30d", Some("2026-10-21T13:02:00Z"), None),
            // What the editor's When takes works too.
            ("since:-2h", Some("2026-11-20T12:02:00Z"), None),
            (
                "until:2026-11-01T09:30:00Z",
                None,
                Some("2026-11-01T09:30:00Z"),
            ),
        ];
        for (input, since, until) in cases {
            let parsed = parse(input);
            assert_eq!(parsed.error, None, "{input}");
            assert_eq!(parsed.filter.since, since.map(ts), "{input}");
            assert_eq!(parsed.filter.until, until.map(ts), "{input}");
        }
    }

    #[test]
    fn a_bad_token_is_reported_and_the_rest_still_applies() {
        let cases: &[(&str, &str, Filter)] = &[
            ("since:2026-10 renewal", SINCE_ERROR, text_filter("renewal")),
            (
                "author:sara until:banana",
                UNTIL_ERROR,
                Filter {
                    authors: vec!["sara".into()],
                    ..Filter::default()
                },
            ),
            // Only the first problem is reported.
            ("since:x until:y", SINCE_ERROR, Filter::default()),
            ("until:2026-02-30 since:7d", UNTIL_ERROR, {
                Filter {
                    since: Some(ts("2026-11-13T14:02:00Z")),
                    ..Filter::default()
                }
            }),
            // The editor refuses the future; a calendar date is fine.
            ("since:+2d", SINCE_ERROR, Filter::default()),
            ("since:7x", SINCE_ERROR, Filter::default()),
        ];
        for (input, error, expected) in cases {
            let parsed = parse(input);
            assert_eq!(parsed.error.as_deref(), Some(*error), "{input}");
            assert_eq!(&parsed.filter, expected, "{input}");
        }
        assert!(parse("until:2030-01-01").filter.until.is_some());
    }

    #[test]
    fn is_empty_and_server_query() {
        assert!(Filter::default().is_empty());
        assert!(text_filter("  ").is_empty());
        assert!(!text_filter("x").is_empty());

        let caps = Capabilities {
            server_author_filter: true,
            server_type_filter: true,
            ..Capabilities::default()
        };
        let base = NoteQuery {
            customer_id: Some("c1".into()),
            ..NoteQuery::default()
        };
        let q = parse("author:sara@x.com type:call")
            .filter
            .server_query(&caps, base.clone());
        assert_eq!(q.kind, Some(NoteKind::Call));
        assert_eq!(q.author_email.as_deref(), Some("sara@x.com"));
        assert_eq!(q.customer_id.as_deref(), Some("c1"));
        // Not an email, two authors, a provider's own type, or no capability: left to the client.
        for (input, caps) in [
            ("author:sara type:Meeting", caps),
            ("author:sara@x.com author:adam@x.com", caps),
            ("author:sara@x.com type:call", Capabilities::default()),
        ] {
            assert_eq!(
                parse(input).filter.server_query(&caps, base.clone()),
                base,
                "{input}"
            );
        }
    }

    // --- matching ---

    #[test]
    fn each_token_matches_on_its_own() {
        let mut n = note("Renewal discussed, sending quote Monday.");
        n.kind = NoteKind::Call;
        n.subject = Some("Q4 pricing".into());
        let yes = |input: &str| parse(input).filter.matches(&n);
        assert!(yes("author:sara"));
        assert!(yes("author:LEE"));
        assert!(yes("author:@x.com"));
        assert!(!yes("author:adam"));
        assert!(
            yes("author:adam author:sara"),
            "author tokens are alternatives"
        );
        assert!(yes("type:call"));
        assert!(!yes("type:note"));
        assert!(!yes("type:meeting"));
        assert!(yes("renewal monday"));
        assert!(!yes("renewal tuesday"), "every word must match");
        assert!(yes("pricing"), "the subject counts");
        assert!(yes("lee"), "the author's name counts");
        assert!(!yes("x.com"), "the author's email does not");
        assert!(yes("author:sara type:call renewal q4"));
        assert!(!yes("author:sara type:note renewal"));

        let mut meeting = n.clone();
        meeting.kind = NoteKind::Other("Meeting".into());
        assert!(parse("type:MEETING").filter.matches(&meeting));
        assert!(!parse("type:call").filter.matches(&meeting));
    }

    #[test]
    fn since_and_until_are_inclusive() {
        let mut n = note("x");
        let at = |input: &str, created: &str, n: &mut Note| {
            n.created_at = ts(created);
            parse(input).filter.matches(n)
        };
        // 2026-10-01 in London runs from 2026-09-30T23:00Z to 2026-10-01T22:59:59.999999999Z.
        assert!(at("since:2026-10-01", "2026-09-30T23:00:00Z", &mut n));
        assert!(!at("since:2026-10-01", "2026-09-30T22:59:59.999Z", &mut n));
        assert!(at(
            "until:2026-10-01",
            "2026-10-01T22:59:59.999999999Z",
            &mut n
        ));
        assert!(!at("until:2026-10-01", "2026-10-01T23:00:00Z", &mut n));
        assert!(at(
            "since:2026-10-01 until:2026-10-01",
            "2026-10-01T12:00:00Z",
            &mut n
        ));
    }

    #[test]
    fn free_text_matches_words_with_typos_but_not_scattered_letters() {
        assert!(matches_text("renewal", "Renewal discussed"));
        assert!(matches_text("RENEWAL", "the renewal is due"));
        assert!(matches_text("newal", "the renewal is due"), "inside a word");
        assert!(
            matches_text("renwal", "Renewal discussed"),
            "a letter left out"
        );
        assert!(matches_text("renewl", "(renewal) discussed"));
        assert!(
            matches_text("cafe", "Lunch at the Café"),
            "accents are ignored"
        );
        assert!(matches_text("café", "lunch at the CAFÉ"));
        assert!(
            !matches_text("café", "lunch at the cafe"),
            "typed accents count"
        );
        assert!(matches_text("e-mail", "sent an E-Mail"));
        let scattered = "We reviewed everything now, even when all the arrangements looked \
                         fine; the report explained nothing extraordinary, and we all left.";
        assert!(!matches_text("renewal", scattered));
        // Spread inside one word: "rene" in "reference" scores below the threshold.
        assert!(!matches_text("rene", "see the reference"));
        // Typos only from the fourth letter: the first three must be right.
        assert!(!matches_text("rnewal", "Renewal discussed"));
        // Short words only match where they occur.
        assert!(!matches_text("rnw", "Renewal"));
        assert!(matches_text("ren", "Renewal"));
        assert!(!matches_text("renewal", ""));
    }

    #[test]
    fn the_threshold_follows_nucleos_scores() {
        // These pin the arithmetic in `fuzzy_threshold`'s comment to nucleo's actual scores,
        // so that an upgrade that changes them fails here.
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut score = |needle: &str, hay: &str| {
            atom(needle, AtomKind::Fuzzy)
                .score(Utf32Str::Ascii(hay.as_bytes()), &mut matcher)
                .map(u32::from)
        };
        assert_eq!(score("rnewal", "renewal"), Some(fuzzy_threshold(6)));
        assert_eq!(fuzzy_threshold(6), 129);
        assert_eq!(score("renwal", "Renewal"), Some(141));
        assert_eq!(score("rene", "reference"), Some(85));
        assert!(score("rene", "reference").unwrap() < fuzzy_threshold(4));
        // Exact but inside a word: 20n − 4, below the threshold (such words match as
        // substrings instead).
        assert_eq!(score("newal", "renewal"), Some(96));
        assert!(96 < fuzzy_threshold(5));
    }

    #[test]
    fn only_plain_words_starting_elsewhere_are_ruled_out_before_nucleo() {
        // Ruled out: letters only, and the match cannot start at the first one.
        assert!(!can_reach_threshold(b"different", b'r'));
        assert!(!can_reach_threshold(b"CURRENT", b'r'));
        // Kept: starts with the letter, or has places nucleo rewards.
        assert!(can_reach_threshold(b"Renewal", b'r'));
        assert!(can_reach_threshold(b"pre-renewal", b'r'));
        assert!(can_reach_threshold(b"preRenewal", b'r'));
        assert!(can_reach_threshold(b"q4renewal", b'r'));
        // The reasoning, checked against nucleo: the best mid-word match stays below.
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut score = |needle: &str, hay: &str| {
            atom(needle, AtomKind::Fuzzy)
                .score(Utf32Str::Ascii(hay.as_bytes()), &mut matcher)
                .map(u32::from)
        };
        assert_eq!(score("renewal", "xrenewal"), Some(20 * 7 - 4));
        assert!(score("renwal", "xrenewal").unwrap() < fuzzy_threshold(6));
        assert!(score("renwal", "renewal").unwrap() >= fuzzy_threshold(6));
    }

    #[test]
    fn the_byte_level_path_agrees_with_the_definition() {
        // Note words with the features that change nucleo's bonuses (case steps, digits,
        // punctuation) against words cut short, missing letters or misspelt.
        let mut rng = fastrand::Rng::with_seed(0xb17e);
        let pieces = [
            "re",
            "new",
            "al",
            "Re",
            "NEW",
            "ren",
            "w",
            "a",
            "l",
            "-",
            "(",
            "4",
            "x",
            "e",
            "n",
            "ewal",
            "Renewal",
            "reference",
            "/",
            ".",
            "q",
            "nw",
        ];
        let words = [
            "renewal", "rene", "renwal", "reneal", "renewl", "rnewal", "ren", "re",
        ];
        let mut s = Scratch::default();
        let mut typo_matches = 0;
        for _ in 0..20_000 {
            let token: String = (0..rng.usize(1..6))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            let typed = words[rng.usize(..words.len())];
            let word = Word::new(typed);
            assert_eq!(
                token_matches(&word, &token, &mut s),
                token_matches_by_definition(&word, &token, &mut s),
                "{typed:?} in {token:?}"
            );
            let by_definition = token_matches_by_definition(&word, &token, &mut s);
            assert_eq!(
                word_in_hay(&word, &token, true, &mut s),
                by_definition,
                "{typed:?} in {token:?}"
            );
            let lower = token.to_ascii_lowercase();
            typo_matches += usize::from(by_definition && !lower.contains(typed));
        }
        // The comparison covered the fuzzy part, not only plain occurrences.
        assert!(typo_matches > 200, "{typo_matches}");
    }

    #[test]
    fn finder_agrees_with_a_plain_search() {
        let mut rng = fastrand::Rng::with_seed(0xf1d);
        let alphabet = b"abAB -x\n1";
        for _ in 0..5_000 {
            let hay: Vec<u8> = (0..rng.usize(0..80))
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let pat: Vec<u8> = (0..rng.usize(1..9))
                .map(|_| alphabet[rng.usize(..alphabet.len())].to_ascii_lowercase())
                .collect();
            let plain = hay
                .windows(pat.len())
                .position(|w| w.eq_ignore_ascii_case(&pat));
            let finder = Finder::new(&pat);
            assert_eq!(finder.find(&hay), plain, "{hay:?} {pat:?}");
            assert_eq!(finder.is_in(&hay), plain.is_some(), "{hay:?} {pat:?}");
        }
        assert_eq!(Finder::new(b"").find(b"abc"), None);
        assert!(!Finder::new(b"").is_in(b"abc"));
        assert_eq!(Finder::new(b"a").find(b""), None);
        assert_eq!(Finder::new(b"aa").ranges(b"xAaAaa"), vec![1..3, 3..5]);
        let long = b"the quarterly renewal";
        assert_eq!(
            Finder::new(b"renewal").ranges(b"RENEWAL, Renewal"),
            vec![0..7, 9..16]
        );
        assert_eq!(
            Finder::new(long).find(b"See THE Quarterly Renewal."),
            Some(4)
        );
    }

    // --- the index against `matches` ---

    const VOCAB: &[&str] = &[
        "renewal",
        "Renewal",
        "renewals",
        "discussed",
        "sending",
        "quote",
        "Monday",
        "the",
        "reference",
        "referral",
        "invoice",
        "in",
        "voicemail",
        "pricing",
        "(pricing)",
        "call",
        "callback",
        "Café",
        "cafe",
        "naïve",
        "Verlängerung",
        "straße",
        "e-mail",
        "Q4",
        "2026",
        "re",
        "a",
        "x",
        "rene",
        "renegotiate",
        "rent",
        "current",
        "seats",
        "seat",
        "ÉTÉ",
        "sara",
        "lee",
        "über",
        "über-renewal",
        "Ren",
        "RENEWAL!",
        "résumé",
        "naive",
    ];

    fn random_notes(rng: &mut fastrand::Rng, count: usize) -> Vec<Note> {
        let authors: &[(Option<&str>, Option<&str>)] = &[
            (Some("Sara Lee"), Some("sara@x.com")),
            (Some("Sarah Connor"), Some("SConnor@y.org")),
            (Some("Adam Smith"), None),
            (None, Some("ops@z.io")),
            (Some("Zoë Müller"), Some("zoe@z.de")),
            (None, None),
            (Some("Rene Renwal"), None),
        ];
        let kinds = [
            NoteKind::Note,
            NoteKind::Call,
            NoteKind::Other("Meeting".into()),
            NoteKind::Other("meeting".into()),
            NoteKind::Other("Task".into()),
        ];
        let base = ts("2026-11-20T00:00:00Z");
        (0..count)
            .map(|i| {
                let words = rng.usize(0..14);
                let mut text = String::new();
                for w in 0..words {
                    if w > 0 {
                        text.push(if rng.u8(..10) == 0 { '\n' } else { ' ' });
                    }
                    text.push_str(VOCAB[rng.usize(..VOCAB.len())]);
                }
                let (name, email) = authors[rng.usize(..authors.len())];
                Note {
                    id: format!("n{i}"),
                    customer_id: None,
                    kind: kinds[rng.usize(..kinds.len())].clone(),
                    author_name: name.map(str::to_string),
                    author_email: email.map(str::to_string),
                    text,
                    call_duration_s: None,
                    created_at: base - jiff::SignedDuration::from_mins(rng.i64(0..60 * 24 * 60)),
                    updated_at: None,
                    subject: (rng.u8(..4) == 0)
                        .then(|| VOCAB[rng.usize(..VOCAB.len())].to_string()),
                    web_url: None,
                    extras: NoteExtras::default(),
                }
            })
            .collect()
    }

    /// A query as someone would type it: tokens, then words that are vocabulary words, cut
    /// short, missing a letter, in another case, or random letters.
    fn random_query(rng: &mut fastrand::Rng) -> String {
        let mut parts: Vec<String> = Vec::new();
        let authors = [
            "sara", "SARA", "lee", "@x", "zo", "müller", "adam", "nobody",
        ];
        for _ in 0..rng.usize(0..3) {
            parts.push(format!("author:{}", authors[rng.usize(..authors.len())]));
        }
        if rng.bool() {
            let types = ["note", "call", "MEETING", "task", "other"];
            parts.push(format!("type:{}", types[rng.usize(..types.len())]));
        }
        if rng.u8(..4) == 0 {
            parts.push(format!("since:{}d", rng.u8(1..60)));
        }
        if rng.u8(..4) == 0 {
            parts.push(format!(
                "until:2026-{:02}-{:02}",
                rng.u8(9..12),
                rng.u8(1..29)
            ));
        }
        for _ in 0..rng.usize(0..3) {
            let chars: Vec<char> = VOCAB[rng.usize(..VOCAB.len())].chars().collect();
            let word: String = match rng.u8(..5) {
                0 => chars[..rng.usize(1..=chars.len())].iter().collect(),
                1 if chars.len() > 1 => {
                    let skip = rng.usize(..chars.len());
                    chars
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != skip)
                        .map(|(_, c)| c)
                        .collect()
                }
                2 => chars.iter().collect::<String>().to_uppercase(),
                3 => (0..rng.usize(1..4)).map(|_| rng.lowercase()).collect(),
                _ => chars.iter().collect(),
            };
            parts.push(word);
        }
        rng.shuffle(&mut parts);
        parts.join(" ")
    }

    fn expected(filter: &Filter, notes: &[Note]) -> Vec<u32> {
        let mut m = filter.matcher();
        (0..notes.len() as u32)
            .filter(|&i| m.matches(&notes[i as usize]))
            .collect()
    }

    fn small_index(threads: usize) -> FilterIndex {
        let mut index = FilterIndex::new();
        index.threads = threads;
        index.parallel_min = 50;
        index.chunk = 37;
        index
    }

    #[test]
    fn the_index_agrees_with_matches_on_random_queries() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_f17e);
        let notes = random_notes(&mut rng, 1_500);
        for threads in [1, 3] {
            let mut index = small_index(threads);
            index.rebuild(&notes);
            for _ in 0..300 {
                let input = random_query(&mut rng);
                let filter = Filter::parse(&input, now(), &london()).filter;
                index.forget_previous();
                assert_eq!(
                    index.run(&filter, &notes),
                    expected(&filter, &notes),
                    "{input:?}"
                );
            }
        }
    }

    #[test]
    fn narrowing_while_typing_gives_the_same_as_a_fresh_run() {
        let mut rng = fastrand::Rng::with_seed(0x7e57);
        let all = random_notes(&mut rng, 2_000);
        for round in 0..60 {
            // Pages arrive while typing: part of the list is pushed halfway through the query.
            let mut index = small_index(1 + round % 3);
            let first_page = rng.usize(0..all.len());
            index.push(&all[..first_page]);
            let input = random_query(&mut rng);
            let cut = rng.usize(0..=input.chars().count());
            for (typed, c) in input.char_indices().map(|(i, c)| (i + c.len_utf8(), c)) {
                let _ = c;
                let notes = if input[..typed].chars().count() < cut {
                    &all[..first_page]
                } else {
                    &all[..]
                };
                if notes.len() > index.len() && rng.bool() {
                    index.push(&notes[index.len()..]);
                }
                let filter = Filter::parse(&input[..typed], now(), &london()).filter;
                assert_eq!(
                    index.run(&filter, notes),
                    expected(&filter, notes),
                    "{:?} of {input:?}",
                    &input[..typed]
                );
            }
        }
    }

    #[test]
    fn narrowing_keeps_exactly_the_notes_of_the_longer_word() {
        // The cases where a longer word is not simply a substring of the notes matched.
        let notes: Vec<Note> = [
            "rxene",
            "renewal",
            "Renewal discussed",
            "ren",
            "renw renewl",
        ]
        .iter()
        .map(|t| note(t))
        .map(|mut n| {
            n.author_name = None;
            n
        })
        .collect();
        let mut index = FilterIndex::new();
        index.rebuild(&notes);
        for typed in ["r", "re", "ren", "rene", "renw", "renwa", "renwal"] {
            let filter = text_filter(typed);
            let mut fresh = FilterIndex::new();
            fresh.rebuild(&notes);
            assert_eq!(
                index.run(&filter, &notes),
                fresh.run(&filter, &notes),
                "{typed}"
            );
            assert_eq!(
                index.run(&filter, &notes),
                expected(&filter, &notes),
                "{typed}"
            );
        }
        assert_eq!(index.run(&text_filter("renwal"), &notes), vec![1, 2]);
    }

    #[test]
    fn queries_of_many_words_are_checked_in_full() {
        // Past 64 words the index keeps no per-word tally; every word must still match.
        let words: Vec<String> = (0..70).map(|n| format!("w{n}")).collect();
        let all = words.join(" ");
        let notes = vec![note(&all), note(&words[..69].join(" ")), note("w1")];
        let mut index = FilterIndex::new();
        let filter = text_filter(&all);
        assert_eq!(index.run(&filter, &notes), vec![0]);
        assert_eq!(expected(&filter, &notes), vec![0]);
        let short = text_filter(&words[..64].join(" "));
        assert_eq!(index.run(&short, &notes), vec![0, 1]);
    }

    #[test]
    fn the_index_follows_the_notes_it_is_given() {
        let mut index = FilterIndex::new();
        let notes = vec![note("renewal"), note("invoice"), note("renewal again")];
        let filter = text_filter("renewal");
        assert_eq!(index.run(&filter, &notes[..1]), vec![0]);
        // Pages appended since are indexed on the way.
        assert_eq!(index.run(&filter, &notes), vec![0, 2]);
        assert_eq!(index.len(), 3);
        // A shorter list was replaced: rebuilt.
        let replaced = vec![note("invoice"), note("renewal")];
        assert_eq!(index.run(&filter, &replaced), vec![1]);
        assert_eq!(index.run(&Filter::default(), &replaced), vec![0, 1]);
        assert!(index.heap_bytes() > 0);
    }

    // --- set_token, authors, completion, highlight ---

    #[test]
    fn set_token_edits_one_key_and_keeps_the_rest() {
        let cases: &[(&str, &str, Option<&str>, &str)] = &[
            (
                "type:call renewal",
                "type",
                Some("note"),
                "type:note renewal",
            ),
            ("renewal type:call", "type", None, "renewal"),
            ("type:call renewal", "type", None, "renewal"),
            ("author:sara  renewal ", "author", None, "renewal "),
            ("x type:a type:b", "type", None, "x"),
            ("type:a x TYPE:b", "type", Some("call"), "type:call x"),
            (
                "renewal",
                "author",
                Some("Sara Lee"),
                r#"author:"Sara Lee" renewal"#,
            ),
            (
                "author:sara renewal",
                "type",
                Some("call"),
                "author:sara type:call renewal",
            ),
            ("", "type", Some("call"), "type:call"),
            ("renewal", "type", None, "renewal"),
            (
                r#"author:"Sara Lee" x"#,
                "author",
                Some("a@b.c"),
                "author:a@b.c x",
            ),
            ("since:7d  until:1d", "until", None, "since:7d"),
        ];
        for (input, key, value, expected) in cases {
            assert_eq!(
                set_token(input, key, *value),
                *expected,
                "{input} {key} {value:?}"
            );
        }
        // What set_token writes parses back to the value.
        let edited = set_token("renewal", "author", Some("Sara \"The\" Lee"));
        assert_eq!(
            parse(&edited).filter.authors,
            vec!["Sara The Lee".to_string()]
        );
    }

    fn authored(name: Option<&str>, email: Option<&str>) -> Note {
        let mut n = note("x");
        n.author_name = name.map(str::to_string);
        n.author_email = email.map(str::to_string);
        n
    }

    fn sample_authors() -> Vec<AuthorCount> {
        let notes = vec![
            authored(Some("Sara Lee"), Some("sara@x.com")),
            authored(None, Some("SARA@X.COM")),
            authored(Some("Sara L."), Some("sara@x.com")),
            authored(Some("Adam"), None),
            authored(Some("Adam"), None),
            authored(Some("adam"), None),
            authored(None, Some("ops@z.io")),
            authored(None, None),
            authored(Some("Sarah Connor"), Some("sarah@y.org")),
        ];
        authors(&notes)
    }

    #[test]
    fn authors_are_counted_by_email_then_name() {
        let found = sample_authors();
        let summary: Vec<(String, usize)> = found.iter().map(|a| (a.label(), a.count)).collect();
        assert_eq!(
            summary,
            vec![
                ("Sara Lee <sara@x.com>".to_string(), 3),
                ("Adam".to_string(), 2),
                ("adam".to_string(), 1),
                ("ops@z.io".to_string(), 1),
                ("Sarah Connor <sarah@y.org>".to_string(), 1),
            ]
        );
        assert_eq!(found[0].token_value(), "sara@x.com");
        assert_eq!(found[1].token_value(), "Adam");
    }

    #[test]
    fn tab_completes_a_trailing_author_token() {
        let found = sample_authors();
        assert_eq!(
            author_completions("renewal author:sar", &found),
            vec!["sara@x.com".to_string(), "sarah@y.org".to_string()]
        );
        assert_eq!(
            author_completions("author:CONNOR", &found),
            vec!["sarah@y.org"]
        );
        assert_eq!(author_completions("author:", &found).len(), 5);
        assert!(author_completions("author:sar ", &found).is_empty());
        assert!(author_completions("author:sar renewal", &found).is_empty());
        assert!(author_completions("type:c", &found).is_empty());
        assert!(author_completions("", &found).is_empty());
        assert_eq!(
            complete_author("renewal author:sar", "sara@x.com"),
            "renewal author:sara@x.com"
        );
        assert_eq!(
            complete_author("renewal", "Sara Lee"),
            r#"renewal author:"Sara Lee""#
        );
    }

    #[test]
    fn highlight_marks_occurrences_then_fuzzy_positions() {
        let line = "Renewal discussed; renewal again";
        assert_eq!(highlight("renewal", line), vec![0..7, 19..26]);
        assert_eq!(
            highlight("renewal discussed", line),
            vec![0..7, 8..17, 19..26]
        );
        // Overlapping words merge.
        assert_eq!(highlight("renew newal", line), vec![0..7, 19..26]);
        // No occurrence: nucleo's positions in the note word it matches (r-e-n, w-a-l).
        assert_eq!(highlight("renwal", "The Renewal"), vec![4..7, 8..11]);
        // On char boundaries of a non-ASCII line.
        assert_eq!(highlight("cafe", "Zoë's Café"), vec![7..12]);
        assert_eq!(highlight("zoë", "Zoë's Café"), vec![0..4]);
        // Nothing that matches only scattered.
        assert!(highlight("renewal", "report even now; everyone was all late").is_empty());
        assert!(highlight("", "anything").is_empty());
    }
}
