//! The one place untrusted text (server data, pastes, note HTML) is made safe and readable.
//! Nothing here may panic, and nothing it returns may carry an escape sequence, a control
//! character (other than `\n`) or a bidi override to the terminal.

use std::borrow::Cow;

use html2text::render::TextDecorator;
use unicode_width::UnicodeWidthStr;

/// Largest note body we convert; the rest is cut off with a marker.
pub const MAX_NOTE_BYTES: usize = 256 * 1024;

/// Appended when a note was longer than [`MAX_NOTE_BYTES`], so nobody mistakes it for the end.
const TRUNCATED_MARKER: &str = "… (note truncated)";

const TAB_STOP: usize = 4;

const ESC: char = '\u{1b}';
const BEL: char = '\u{07}';
/// The 8-bit (C1) forms: some terminals obey them even when they arrive as UTF-8.
const C1_DCS: char = '\u{90}';
const C1_SOS: char = '\u{98}';
const C1_CSI: char = '\u{9b}';
const C1_ST: char = '\u{9c}';
const C1_OSC: char = '\u{9d}';
const C1_PM: char = '\u{9e}';
const C1_APC: char = '\u{9f}';

/// Multi-line text from a server or a paste, made safe to draw.
pub fn sanitize(s: &str) -> String {
    if s.bytes().all(|b| b == b'\n' || is_printable_ascii(b)) {
        return s.to_owned();
    }
    clean(s, Mode::Multi)
}

/// One-line text (names, emails, statuses) made safe to draw.
pub fn sanitize_line(s: &str) -> String {
    let cleaned = if s.bytes().all(is_printable_ascii) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(clean(s, Mode::Line))
    };
    cleaned.trim().to_owned()
}

/// A note's HTML rendered to plain, sanitised, unwrapped text (the UI wraps it to the pane).
pub fn note_text(html: &str) -> String {
    let (input, truncated) = cap(html, MAX_NOTE_BYTES);
    // html2text costs far more than the rest of this module together; most notes are plain
    // text, and for those it would only collapse the author's spacing.
    let text = if !looks_like_html(input) {
        sanitize(input)
    } else if let Some(text) = line_breaks_only(input) {
        sanitize(&text)
    } else {
        render_html(input)
    };
    let mut out = tidy(&text);
    if truncated {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(TRUNCATED_MARKER);
    }
    out
}

/// `<br>` is the only markup in most notes typed into a CRM's web form: turned into line
/// breaks directly, such a note skips html2text, by far the costliest step. `None` when the
/// note has any other tag or an entity, which only the real renderer gets right.
fn line_breaks_only(input: &str) -> Option<String> {
    if input.contains('&') {
        return None;
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tag = &rest[open + 1..];
        let close = tag.find('>')?;
        let name = tag[..close].trim().trim_end_matches('/').trim_end();
        if !name.eq_ignore_ascii_case("br") {
            return None;
        }
        out.push('\n');
        rest = &tag[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn is_printable_ascii(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
    )
}

/// What [`clean`] produces.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Display text: `\n` kept, tabs expanded.
    Multi,
    /// Display text on one line: line breaks become one space, tabs expanded.
    Line,
    /// HTML source about to be rendered: whitespace is left to the HTML renderer, which
    /// would otherwise drop an ESC and leave the rest of its sequence ("[31m") on screen.
    Source,
}

/// Where the scanner is relative to a terminal escape sequence; `Ground` is ordinary text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Ground,
    /// After ESC.
    Esc,
    /// After ESC and intermediate bytes, e.g. `ESC ( B`.
    EscIntermediate,
    /// Control Sequence: parameters until a final byte 0x40–0x7E.
    Csi,
    /// OSC, DCS, SOS, PM or APC: anything until BEL or ST.
    Str,
    /// ESC inside a string: `\` ends the string, anything else starts a new sequence.
    StrEsc,
}

/// Advances the escape-sequence scanner by one char. Returns the next state and whether
/// `c` belongs to a sequence; a char that does not is ordinary text.
fn step(state: State, c: char) -> (State, bool) {
    match state {
        State::Ground => match c {
            ESC => (State::Esc, true),
            C1_CSI => (State::Csi, true),
            C1_OSC | C1_DCS | C1_SOS | C1_PM | C1_APC => (State::Str, true),
            _ => (State::Ground, false),
        },
        State::Esc => match c {
            '[' => (State::Csi, true),
            ']' | 'P' | 'X' | '^' | '_' => (State::Str, true),
            ' '..='/' => (State::EscIntermediate, true),
            '0'..='~' => (State::Ground, true),
            // Not a sequence after all: the char is read afresh as text (or a new ESC).
            _ => step(State::Ground, c),
        },
        State::EscIntermediate => match c {
            ' '..='/' => (State::EscIntermediate, true),
            '0'..='~' => (State::Ground, true),
            _ => step(State::Ground, c),
        },
        State::Csi => match c {
            ' '..='?' => (State::Csi, true),
            '@'..='~' => (State::Ground, true),
            _ => step(State::Ground, c),
        },
        State::Str => match c {
            BEL | C1_ST => (State::Ground, true),
            ESC => (State::StrEsc, true),
            _ => (State::Str, true),
        },
        State::StrEsc => match c {
            '\\' => (State::Ground, true),
            _ => step(State::Esc, c),
        },
    }
}

/// Removes escape sequences whole (an unterminated one runs to the end and goes too),
/// control characters and bidi controls; see [`Mode`] for what happens to whitespace.
fn clean(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    let mut state = State::Ground;
    // Tab stops are columns on screen, so the column is the display width since the line
    // start; measuring only since the previous tab keeps long lines of tabs linear.
    let mut seg_start = 0;
    let mut seg_col = 0;
    for c in s.chars() {
        let (next, in_sequence) = step(state, c);
        state = next;
        if in_sequence {
            continue;
        }
        match c {
            '\n' | '\u{2028}' | '\u{2029}' => match mode {
                Mode::Multi => {
                    out.push('\n');
                    seg_start = out.len();
                    seg_col = 0;
                }
                Mode::Line => {
                    if !out.ends_with(' ') {
                        out.push(' ');
                    }
                }
                Mode::Source => out.push(c),
            },
            '\t' if mode == Mode::Source => out.push('\t'),
            '\t' => {
                let col = seg_col + out.get(seg_start..).unwrap_or_default().width();
                let pad = TAB_STOP - col % TAB_STOP;
                out.extend(std::iter::repeat_n(' ', pad));
                seg_start = out.len();
                seg_col = col + pad;
            }
            '\r' if mode == Mode::Source => out.push('\r'),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Cuts `s` to at most `max` bytes on a char boundary; true if anything was cut.
fn cap(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (s.get(..end).unwrap_or_default(), true)
}

/// Whether `s` has a tag (`<x…>`, `</x>`, `<!--`) or a character reference (`&#…`,
/// `&name;`). Text such as "a < b", "<3" or "Tom & Jerry" is not HTML.
fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    let last_gt = s.rfind('>');
    let tag = last_gt.is_some_and(|last_gt| {
        s.match_indices('<')
            .take_while(|&(i, _)| i < last_gt)
            .any(|(i, _)| opens_tag(b, i))
    });
    tag || s.match_indices('&').any(|(i, _)| is_char_ref(b, i + 1))
}

/// Whether the `<` at `i` starts a tag, a closing tag, a comment or a declaration.
fn opens_tag(b: &[u8], i: usize) -> bool {
    b.get(i + 1)
        .is_some_and(|&n| n.is_ascii_alphabetic() || matches!(n, b'/' | b'!' | b'?'))
}

/// Whether the text after an `&` (at `rest`) is `#…` or `name;`.
fn is_char_ref(b: &[u8], rest: usize) -> bool {
    let after = b.get(rest..).unwrap_or_default();
    if after.first() == Some(&b'#') {
        return true;
    }
    // The longest HTML entity name is 31 chars.
    let name_len = after
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    name_len > 0 && after.get(name_len) == Some(&b';')
}

/// Tags that lay text out in blocks: a note with any of them is real HTML, whose newlines
/// are just source formatting.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "section",
    "article",
];

fn has_block_tags(s: &str) -> bool {
    let b = s.as_bytes();
    s.match_indices('<').any(|(i, _)| {
        let mut start = i + 1;
        if b.get(start) == Some(&b'/') {
            start += 1;
        }
        let name_len = b
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let name = b.get(start..start + name_len).unwrap_or_default();
        let ends_name = b
            .get(start + name_len)
            .is_none_or(|&c| c.is_ascii_whitespace() || c == b'>' || c == b'/');
        ends_name
            && BLOCK_TAGS
                .iter()
                .any(|tag| tag.as_bytes().eq_ignore_ascii_case(name))
    })
}

/// Turns line breaks outside tags into `<br>`, so that text written with newlines and
/// inline tags keeps its lines when rendered as HTML. `\r\n` counts as one break and a
/// lone `\r` is dropped, as in [`sanitize`].
fn newlines_to_br(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut copied = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'<' if opens_tag(b, i) => {
                let tag_end = if b.get(i..).unwrap_or_default().starts_with(b"<!--") {
                    s.get(i + 4..)
                        .and_then(|rest| rest.find("-->"))
                        .map(|j| i + 4 + j + 3)
                } else {
                    s.get(i..)
                        .and_then(|rest| rest.find('>'))
                        .map(|j| i + j + 1)
                };
                i = tag_end.unwrap_or(b.len());
            }
            b'\n' | b'\r' => {
                out.push_str(s.get(copied..i).unwrap_or_default());
                if c == b'\n' {
                    out.push_str("<br>");
                }
                i += 1;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    out
}

/// Turns numeric references to C0 controls (`&#27;`, `&#x1b;`) back into the characters,
/// so that an escape sequence spelt with entities is removed whole by [`clean`] rather
/// than losing only its ESC inside html2text.
fn decode_control_refs(s: &str) -> Cow<'_, str> {
    if !s.contains("&#") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for (i, _) in s.match_indices("&#") {
        if i < copied {
            continue;
        }
        let Some((value, len)) = parse_numeric_ref(s.get(i + 2..).unwrap_or_default()) else {
            continue;
        };
        // Tab, newline, form feed and carriage return are ordinary HTML whitespace.
        let is_control = matches!(value, 0x01..=0x08 | 0x0b | 0x0e..=0x1f | 0x7f);
        if let Some(c) = char::from_u32(value).filter(|_| is_control) {
            out.push_str(s.get(copied..i).unwrap_or_default());
            out.push(c);
            copied = i + 2 + len;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(s);
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    Cow::Owned(out)
}

/// Parses the digits of a numeric character reference (after `&#`), with its optional `;`.
/// Returns the value (saturated) and the number of bytes read.
fn parse_numeric_ref(s: &str) -> Option<(u32, usize)> {
    let b = s.as_bytes();
    let (radix, start) = match b.first() {
        Some(b'x' | b'X') => (16, 1),
        _ => (10, 0),
    };
    let digits = b
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| (**c as char).is_digit(radix))
        .count();
    if digits == 0 {
        return None;
    }
    let value = s
        .get(start..start + digits)
        .unwrap_or_default()
        .chars()
        .filter_map(|c| c.to_digit(radix))
        .fold(0u32, |acc, d| acc.saturating_mul(radix).saturating_add(d));
    let mut len = start + digits;
    if b.get(len) == Some(&b';') {
        len += 1;
    }
    Some((value, len))
}

/// HTML source with escape sequences and stray controls removed before rendering.
fn strip_source(s: &str) -> Cow<'_, str> {
    let suspicious = s.bytes().enumerate().any(|(i, b)| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || b == 0x7f
            // UTF-8 for U+0080–U+009F (C1), where the 8-bit sequence introducers live.
            || (b == 0xc2 && s.as_bytes().get(i + 1).is_some_and(|n| (0x80..0xa0).contains(n)))
    });
    if suspicious {
        Cow::Owned(clean(s, Mode::Source))
    } else {
        Cow::Borrowed(s)
    }
}

/// Deepest element nesting handed to html2text. Its time grows with the square of the
/// depth of nested blocks (10,000 nested `<div>`s take seconds), while real notes and
/// pasted mail stay well under a hundred levels.
const MAX_NESTING: usize = 256;

/// Elements that never hold others or that the parser closes by itself when a sibling
/// starts, so they add no lasting depth; counting them would flag ordinary lists.
const FLAT_TAGS: &[&str] = &[
    "br", "img", "hr", "wbr", "input", "meta", "link", "base", "col", "area", "embed", "source",
    "track", "param", "p", "li", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody", "tfoot",
    "colgroup",
];

/// Whether elements in `s` may nest deeper than `limit`. Errs on the side of yes (it
/// counts tags inside comments and scripts too), but each end tag only cancels a start
/// tag of the same name, so stray end tags cannot hide real depth.
fn nesting_exceeds(s: &str, limit: usize) -> bool {
    let b = s.as_bytes();
    let mut open: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
    let mut depth = 0usize;
    for (i, _) in s.match_indices('<') {
        let closing = b.get(i + 1) == Some(&b'/');
        let start = if closing { i + 2 } else { i + 1 };
        let rest = b.get(start..).unwrap_or_default();
        if !rest.first().is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let name: Vec<u8> = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
            .map(u8::to_ascii_lowercase)
            .collect();
        if FLAT_TAGS.iter().any(|t| t.as_bytes() == name.as_slice()) {
            continue;
        }
        if closing {
            if let Some(count) = open.get_mut(&name).filter(|count| **count > 0) {
                *count -= 1;
                depth -= 1;
            }
        } else {
            *open.entry(name).or_insert(0) += 1;
            depth += 1;
            if depth > limit {
                return true;
            }
        }
    }
    false
}

fn render_html(input: &str) -> String {
    let decoded = decode_control_refs(input);
    let source = strip_source(&decoded);
    let source = if has_block_tags(&source) {
        source
    } else {
        Cow::Owned(newlines_to_br(&source))
    };
    if nesting_exceeds(&source, MAX_NESTING) {
        return sanitize(input);
    }
    // No rendered line can be much wider than its source, so this never wraps; the
    // overflow setting covers deep nesting, where each level takes some indentation.
    let width = source.len().saturating_mul(2).max(80);
    let rendered = html2text::config::with_decorator(NoteDecorator)
        .link_footnotes(true)
        .no_link_wrapping()
        .allow_width_overflow()
        .string_from_read(source.as_bytes(), width);
    match rendered {
        Ok(text) => sanitize(&text),
        Err(_) => sanitize(input),
    }
}

/// Trims trailing whitespace on each line, drops leading and trailing blank lines and
/// keeps at most one blank line in a row: HTML block spacing and sloppy pastes leave many.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_before = false;
    for line in text.split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            blank_before = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_before {
                out.push('\n');
            }
        }
        blank_before = false;
        out.push_str(line);
    }
    out
}

/// How html2text marks up a note: links as `text [1]` with the addresses listed at the end,
/// no `**`/`*` around emphasis (noise in a note), bullets, numbers, quotes and headings kept.
#[derive(Clone, Copy, Debug)]
struct NoteDecorator;

impl TextDecorator for NoteDecorator {
    type Annotation = ();

    fn decorate_link_start(&mut self, _url: &str) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_link_end(&mut self) -> String {
        // html2text puts the footnote number right after this.
        " ".to_owned()
    }
    fn decorate_em_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_em_end(&self) -> String {
        String::new()
    }
    fn decorate_strong_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_strong_end(&self) -> String {
        String::new()
    }
    fn decorate_strikeout_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }
    fn decorate_code_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_code_end(&self) -> String {
        String::new()
    }
    fn decorate_preformat_first(&self) {}
    fn decorate_preformat_cont(&self) {}
    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, ()) {
        if title.is_empty() {
            (String::new(), ())
        } else {
            (format!("[{title}]"), ())
        }
    }
    fn header_prefix(&self, level: usize) -> String {
        "#".repeat(level) + " "
    }
    fn quote_prefix(&self) -> String {
        "> ".to_owned()
    }
    fn unordered_item_prefix(&self) -> String {
        "* ".to_owned()
    }
    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }
    fn make_subblock_decorator(&self) -> Self {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No character that could steer the terminal or reorder text is left.
    fn assert_safe(s: &str, context: &str) {
        for c in s.chars() {
            assert!(
                c == '\n' || !c.is_control(),
                "control {c:?} survived in {s:?} (from {context:?})"
            );
            assert!(!is_bidi_control(c), "bidi {c:?} survived in {s:?}");
            assert!(c != '\t', "tab survived in {s:?}");
        }
    }

    // --- escape sequences ---

    #[test]
    fn csi_colour_and_cursor_moves_are_removed_whole() {
        assert_eq!(sanitize("\x1b[31mred\x1b[0m plain"), "red plain");
        assert_eq!(sanitize("a\x1b[2J\x1b[10;20Hb\x1b[?25lc"), "abc");
        assert_eq!(sanitize("x\x1b[38;2;255;0;0my"), "xy");
    }

    #[test]
    fn osc_52_clipboard_write_is_removed_whole_when_bel_terminated() {
        assert_eq!(
            sanitize("before\x1b]52;c;ZWNobyBwd25lZA==\x07after"),
            "beforeafter"
        );
    }

    #[test]
    fn osc_52_clipboard_write_is_removed_whole_when_st_terminated() {
        assert_eq!(
            sanitize("before\x1b]52;c;ZWNobyBwd25lZA==\x1b\\after"),
            "beforeafter"
        );
    }

    #[test]
    fn osc_8_hyperlink_keeps_the_visible_text() {
        let s = "see \x1b]8;;https://evil.example/\x1b\\the docs\x1b]8;;\x1b\\ now";
        assert_eq!(sanitize(s), "see the docs now");
    }

    #[test]
    fn osc_title_change_is_removed() {
        assert_eq!(sanitize("\x1b]0;pwned\x07title"), "title");
        assert_eq!(sanitize("\x1b]2;pwned\x1b\\title"), "title");
    }

    #[test]
    fn dcs_sos_pm_and_apc_strings_are_removed() {
        assert_eq!(sanitize("a\x1bP1$r0m\x1b\\b"), "ab");
        assert_eq!(sanitize("a\x1bXsos\x1b\\b"), "ab");
        assert_eq!(sanitize("a\x1b^pm\x1b\\b"), "ab");
        assert_eq!(sanitize("a\x1b_Gf=100;AAAA\x1b\\b"), "ab");
    }

    #[test]
    fn two_byte_and_charset_escapes_are_removed() {
        assert_eq!(sanitize("a\x1bcb\x1b7c\x1b8d\x1b=e"), "abcde");
        assert_eq!(sanitize("a\x1b(Bb\x1b#8c"), "abc");
    }

    #[test]
    fn c1_csi_is_removed_whole() {
        assert_eq!(sanitize("a\u{9b}31mb\u{9b}2Jc"), "abc");
    }

    #[test]
    fn c1_osc_and_dcs_are_removed_up_to_c1_st() {
        assert_eq!(sanitize("a\u{9d}52;c;QUFB\u{9c}b"), "ab");
        assert_eq!(sanitize("a\u{9d}0;title\x07b"), "ab");
        assert_eq!(sanitize("a\u{90}data\u{9c}b"), "ab");
    }

    #[test]
    fn an_unterminated_escape_at_the_end_is_dropped() {
        assert_eq!(sanitize("text\x1b"), "text");
        assert_eq!(sanitize("text\x1b[31"), "text");
        assert_eq!(sanitize("text\x1b]52;c;QUFBQUFB"), "text");
        assert_eq!(sanitize("text\x1bP"), "text");
    }

    #[test]
    fn an_escape_inside_a_string_starts_a_new_sequence() {
        // The OSC is cut short by a CSI; both go and the text after stays.
        assert_eq!(sanitize("a\x1b]0;t\x1b[31mb"), "ab");
    }

    #[test]
    fn a_broken_sequence_keeps_the_text_after_it() {
        assert_eq!(sanitize("a\x1b\u{e9}b"), "a\u{e9}b");
        assert_eq!(sanitize("a\x1b[1\u{e9}b"), "a\u{e9}b");
    }

    // --- other controls and bidi ---

    #[test]
    fn other_controls_del_and_c1_are_removed() {
        assert_eq!(sanitize("a\x00b\x07c\x08d\x7fe\u{85}f\u{9c}g"), "abcdefg");
    }

    #[test]
    fn crlf_becomes_lf_and_a_lone_cr_is_dropped() {
        assert_eq!(sanitize("one\r\ntwo\rthree\n"), "one\ntwothree\n");
    }

    #[test]
    fn bidi_overrides_and_isolates_are_removed() {
        let s = "a\u{202e}b\u{202a}c\u{202b}d\u{202c}e\u{202d}f\u{2066}g\u{2067}h\u{2068}i\u{2069}j\u{200e}k\u{200f}l\u{61c}m";
        assert_eq!(sanitize(s), "abcdefghijklm");
        assert_eq!(sanitize_line(s), "abcdefghijklm");
    }

    #[test]
    fn unicode_text_and_emoji_with_zero_width_joiners_are_kept_exactly() {
        let s = "Zoë 東京 😀 👩\u{200d}💻 👨\u{200d}👩\u{200d}👧 🇫🇷 e\u{301} مرحبا";
        assert_eq!(sanitize(s), s);
        assert_eq!(sanitize_line(s), s);
    }

    // --- tabs ---

    #[test]
    fn tabs_expand_to_the_next_multiple_of_four() {
        assert_eq!(sanitize("\tx"), "    x");
        assert_eq!(sanitize("ab\tc"), "ab  c");
        assert_eq!(sanitize("abcd\te"), "abcd    e");
        assert_eq!(sanitize("a\tb\tc"), "a   b   c");
    }

    #[test]
    fn tabs_after_wide_chars_count_display_columns() {
        // 東 and 京 are two columns each.
        assert_eq!(sanitize("東\tx"), "東  x");
        assert_eq!(sanitize("東京\tx"), "東京    x");
        assert_eq!(sanitize("é\tx"), "é   x");
    }

    #[test]
    fn tab_columns_restart_on_each_line() {
        assert_eq!(sanitize("abc\tx\n\ty"), "abc x\n    y");
    }

    #[test]
    fn escape_sequences_take_no_column_before_a_tab() {
        assert_eq!(sanitize("\x1b[31mab\x1b[0m\tc"), "ab  c");
    }

    // --- one line ---

    #[test]
    fn sanitize_line_joins_lines_with_single_spaces_and_trims() {
        assert_eq!(sanitize_line("  Acme\r\nCorp\n\nLtd \n"), "Acme Corp Ltd");
        assert_eq!(sanitize_line("\x1b[1mAcme\x1b[0m\tInc"), "Acme    Inc");
    }

    #[test]
    fn sanitize_line_treats_unicode_line_separators_as_breaks() {
        assert_eq!(sanitize_line("a\u{2028}b\u{2029}c"), "a b c");
        assert_eq!(sanitize("a\u{2028}b"), "a\nb");
    }

    // --- note_text: plain text ---

    #[test]
    fn plain_text_keeps_its_line_breaks() {
        assert_eq!(note_text("Line one.\nLine two."), "Line one.\nLine two.");
        assert_eq!(
            note_text("Dear Sara,\r\n\r\nThanks.\r\n"),
            "Dear Sara,\n\nThanks."
        );
    }

    #[test]
    fn inline_tags_with_newlines_keep_both_kinds_of_break() {
        assert_eq!(note_text("a<br>b\nc"), "a\nb\nc");
        assert_eq!(
            note_text("<b>Next</b>: call\nthen mail"),
            "Next: call\nthen mail"
        );
    }

    #[test]
    fn newlines_inside_a_tag_do_not_break_it() {
        assert_eq!(
            note_text("see <a\nhref=\"https://x.example/\">docs</a>\nbye"),
            "see docs [1]\nbye\n\n[1]: https://x.example/"
        );
    }

    #[test]
    fn less_than_and_greater_than_in_plain_text_are_kept() {
        assert_eq!(note_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(note_text("I <3 this product"), "I <3 this product");
        assert_eq!(note_text("if x<y then"), "if x<y then");
        assert_eq!(note_text("Tom & Jerry"), "Tom & Jerry");
    }

    #[test]
    fn comparisons_next_to_real_tags_are_kept() {
        assert_eq!(note_text("a < b<br>c > d"), "a < b\nc > d");
    }

    #[test]
    fn plain_text_keeps_its_spacing() {
        assert_eq!(note_text("Total:   42\n  - item"), "Total:   42\n  - item");
    }

    // --- note_text: HTML ---

    #[test]
    fn html_paragraphs_are_separated_by_one_blank_line() {
        assert_eq!(
            note_text("<p>First para.</p>\n<p>Second <b>bold</b> <em>em</em>.</p>"),
            "First para.\n\nSecond bold em."
        );
    }

    #[test]
    fn html_newlines_inside_block_markup_are_just_spaces() {
        assert_eq!(
            note_text("<p>one\ntwo</p><div>three</div>"),
            "one two\n\nthree"
        );
    }

    #[test]
    fn html_br_breaks_lines() {
        assert_eq!(note_text("a<br>b<br/>c<BR />d"), "a\nb\nc\nd");
    }

    #[test]
    fn html_lists_get_bullets_and_numbers() {
        assert_eq!(
            note_text("<ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol>"),
            "* one\n* two\n1. first\n2. second"
        );
    }

    #[test]
    fn html_entities_are_decoded() {
        assert_eq!(
            note_text("Tom &amp; Jerry&nbsp;Inc &#8217;s &lt;tag&gt; &#x263A;"),
            "Tom & Jerry\u{a0}Inc ’s <tag> ☺"
        );
    }

    #[test]
    fn html_links_read_as_text_with_numbered_addresses_at_the_end() {
        assert_eq!(
            note_text(
                "See <a href=\"https://example.com/q\">the quote</a> and <a href=\"https://acme.example\">site</a>."
            ),
            "See the quote [1] and site [2].\n\n[1]: https://example.com/q\n[2]: https://acme.example"
        );
    }

    #[test]
    fn html_that_is_not_wrapped_however_long_the_line() {
        let long = "word ".repeat(2000);
        let text = note_text(&format!("<p>{long}</p>"));
        assert_eq!(text.lines().count(), 1);
        assert_eq!(text, long.trim_end());
    }

    #[test]
    fn scripts_and_styles_are_not_shown() {
        assert_eq!(
            note_text("<style>p{color:red}</style><script>alert(1)</script><p>hi</p>"),
            "hi"
        );
    }

    #[test]
    fn escape_sequences_in_html_are_removed_whole() {
        assert_eq!(note_text("<p>\x1b[31mred\x1b[0m</p>"), "red");
        assert_eq!(note_text("<p>a\u{9b}31mb</p>"), "ab");
    }

    #[test]
    fn escape_sequences_spelt_as_entities_are_removed_whole() {
        assert_eq!(note_text("<p>&#27;[31mred&#x1B;[0m</p>"), "red");
        assert_eq!(note_text("<p>x&#27;]52;c;QUFB&#7;y</p>"), "xy");
        assert_eq!(note_text("x&#0027;[2Jy"), "xy");
        assert_eq!(
            note_text("x&#x1b;]8;;https://e.example&#x1b;\\link&#x1b;]8;;&#x1b;\\"),
            "xlink"
        );
    }

    #[test]
    fn c1_entities_are_windows_1252_text_not_controls() {
        // HTML maps &#155; to '›', so there is no CSI to strip and the text reads as sent.
        let text = note_text("<p>&#155;31m</p>");
        assert_eq!(text, "›31m");
    }

    #[test]
    fn bidi_overrides_in_html_are_removed() {
        assert_eq!(note_text("<p>a\u{202e}b&#x202E;c</p>"), "abc");
    }

    #[test]
    fn blank_lines_collapse_and_trailing_space_goes() {
        assert_eq!(note_text("a   \n\n\n\n\nb  \n\n"), "a\n\nb");
        assert_eq!(
            note_text("<p>a</p><p></p><p></p><br><br><br><p>b</p>"),
            "a\n\nb"
        );
    }

    #[test]
    fn tabs_in_preformatted_html_become_spaces() {
        // html2text expands them itself, to its own 8-column stops.
        assert_eq!(note_text("<pre>a\tb\n\tc</pre>"), "a       b\n        c");
    }

    #[test]
    fn an_empty_note_is_empty() {
        assert_eq!(note_text(""), "");
        assert_eq!(note_text("<p></p>"), "");
        assert_eq!(note_text(" \n\t\n"), "");
    }

    // --- cap ---

    #[test]
    fn a_note_over_the_cap_is_cut_with_a_marker() {
        let long = "x".repeat(MAX_NOTE_BYTES + 10);
        let text = note_text(&long);
        assert!(text.ends_with(&format!("x\n{TRUNCATED_MARKER}")));
        assert_eq!(text.len(), MAX_NOTE_BYTES + 1 + TRUNCATED_MARKER.len());
    }

    #[test]
    fn a_blank_note_over_the_cap_is_just_the_marker() {
        assert_eq!(note_text(&" ".repeat(MAX_NOTE_BYTES + 1)), TRUNCATED_MARKER);
    }

    #[test]
    fn a_note_at_the_cap_is_not_marked() {
        let text = note_text(&"x".repeat(MAX_NOTE_BYTES));
        assert!(!text.contains("truncated"));
        assert_eq!(text.len(), MAX_NOTE_BYTES);
    }

    #[test]
    fn the_cap_falls_on_a_char_boundary() {
        // 'é' is two bytes, so an odd cap lands inside one.
        let long = format!("a{}", "é".repeat(MAX_NOTE_BYTES / 2 + 10));
        let (cut, truncated) = cap(&long, MAX_NOTE_BYTES + 2);
        assert!(truncated);
        assert_eq!(cut.len(), MAX_NOTE_BYTES + 1);
        let text = note_text(&long);
        assert!(text.ends_with(TRUNCATED_MARKER));
        assert!(text.starts_with("aé"));
    }

    #[test]
    fn a_huge_html_note_is_capped_too() {
        let long = "<p>para</p>".repeat(MAX_NOTE_BYTES / 8);
        let text = note_text(&long);
        assert!(text.ends_with(TRUNCATED_MARKER));
        assert!(text.starts_with("para\n\npara"));
    }

    // --- robustness ---

    #[test]
    fn moderately_nested_markup_is_rendered() {
        let html = format!(
            "{}deep{}",
            "<div><ul><li>".repeat(40),
            "</li></ul></div>".repeat(40)
        );
        let text = note_text(&html);
        // html2text puts the bullets of directly nested lists on one line.
        assert_eq!(text, format!("{}deep", "* ".repeat(40)));
        assert!(!text.contains('<'));
    }

    #[test]
    fn a_long_list_of_unclosed_items_is_not_taken_for_deep_nesting() {
        let html = format!("<ul>{}</ul>", "<li>item".repeat(2 * MAX_NESTING));
        assert!(!nesting_exceeds(&html, MAX_NESTING));
        assert!(note_text(&html).starts_with("* item\n* item"));
    }

    #[test]
    fn deeply_nested_markup_falls_back_to_raw_text_quickly() {
        for open in ["<div>", "<ul><li>", "<blockquote>", "<dl><dd>", "<b><div>"] {
            let html = format!("{}deep", open.repeat(MAX_NOTE_BYTES / open.len() - 1));
            let started = std::time::Instant::now();
            let text = note_text(&html);
            assert!(text.ends_with("deep"), "lost the text under {open}");
            assert!(text.starts_with(open), "{open} was rendered");
            assert_safe(&text, open);
            assert!(
                started.elapsed().as_secs() < 5,
                "{open} took {:?}",
                started.elapsed()
            );
        }
    }

    #[test]
    fn stray_end_tags_do_not_hide_nesting() {
        let html = "<div></span>".repeat(MAX_NESTING + 1);
        assert!(nesting_exceeds(&html, MAX_NESTING));
        let balanced = "<div></div>".repeat(MAX_NESTING + 1);
        assert!(!nesting_exceeds(&balanced, MAX_NESTING));
    }

    #[test]
    fn unclosed_tags_and_comments_do_not_lose_the_note() {
        // Without any `>` it cannot be markup, so it is shown as written.
        assert_eq!(
            note_text("hello <!-- never closed\nbye"),
            "hello <!-- never closed\nbye"
        );
        assert_eq!(note_text("a<br>b <b unclosed"), "a\nb");
    }

    #[test]
    fn random_input_never_leaves_anything_unsafe() {
        // Pieces chosen to start, end and interleave sequences, tags and entities.
        const PIECES: &[&[u8]] = &[
            b"\x1b",
            b"[",
            b"]",
            b"P",
            b"\\",
            b"\x07",
            b"\x9b",
            b"\xc2\x9b",
            b"\xc2\x9d",
            b"\xc2\x9c",
            b"\xc2\x90",
            b"\xe2\x80\xae",
            b"\xe2\x81\xa6",
            b"\xe2\x80\x8f",
            b"\xd8\x9c",
            b"\t",
            b"\r",
            b"\n",
            b"\r\n",
            b"\x00",
            b"\x7f",
            b"\x08",
            b"<p>",
            b"</p>",
            b"<br>",
            b"<ul><li>",
            b"<a href=\"x\">",
            b"</a>",
            b"<pre>",
            b"<",
            b">",
            b"&",
            b"&#27;",
            b"&#x1b;",
            b"&#7;",
            b"&amp;",
            b"&#x202e;",
            b";",
            b"31m",
            b"52;c;",
            b"a",
            b"word ",
            b"\xe6\x9d\xb1",
            b"\xf0\x9f\x98\x80",
            b"\xe2\x80\x8d",
            b"\xff",
            b"\xc2",
            b"<!--",
            b"-->",
            b"  ",
        ];
        let mut rng = fastrand::Rng::with_seed(0x5eed);
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            for _ in 0..rng.usize(0..40) {
                if rng.u8(..) < 32 {
                    bytes.push(rng.u8(..));
                } else {
                    bytes.extend_from_slice(PIECES[rng.usize(..PIECES.len())]);
                }
            }
            let input = String::from_utf8_lossy(&bytes);
            assert_safe(&sanitize(&input), &input);
            let line = sanitize_line(&input);
            assert_safe(&line, &input);
            assert!(!line.contains('\n'), "newline in {line:?}");
            assert_safe(&note_text(&input), &input);
        }
    }

    #[test]
    fn notes_whose_only_markup_is_br_read_the_same_without_the_html_renderer() {
        for note in [
            "Renewal discussed<br>quote Monday",
            "Line one<BR/>Line two<br />Line three",
            "a<br>\nb",
            "trailing<br>",
        ] {
            let fast = note_text(note);
            let full = tidy(&render_html(note));
            assert_eq!(fast, full, "{note:?}");
        }
        assert_eq!(line_breaks_only("a<b>bold</b>"), None);
        assert_eq!(line_breaks_only("a &amp; b<br>"), None);
        assert_eq!(line_breaks_only("unclosed <br"), None);
    }
}
