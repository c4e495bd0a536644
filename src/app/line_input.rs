//! A one-line text input (the filter bar, the author picker's search): the text and a cursor,
//! with the readline keys people type without thinking (Ctrl-W, Ctrl-U, Ctrl-A/E).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The longest query kept: a paste of a whole note into the filter bar is cut here, so
/// matching stays cheap per keystroke.
pub const MAX_INPUT_CHARS: usize = 512;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    /// Cursor position in chars (0..=len).
    cursor: usize,
}

/// What a key did to the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text changed.
    Changed,
    /// Only the cursor moved.
    Moved,
    /// Not an editing key: the caller decides what it means.
    Ignored,
}

impl LineInput {
    pub fn new(text: &str) -> LineInput {
        let mut input = LineInput::default();
        input.set(text);
        input
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor as a column count of chars before it.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Replaces the text, cursor at the end.
    pub fn set(&mut self, text: &str) {
        self.text = clean(text);
        self.cursor = self.text.chars().count();
    }

    /// Inserts `s` at the cursor (typed or pasted); newlines and controls become spaces.
    pub fn insert(&mut self, s: &str) -> Edit {
        let room = MAX_INPUT_CHARS.saturating_sub(self.text.chars().count());
        let add: String = clean(s).chars().take(room).collect();
        if add.is_empty() {
            return Edit::Ignored;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert_str(at, &add);
        self.cursor += add.chars().count();
        Edit::Changed
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let len = self.text.chars().count();
        match key.code {
            KeyCode::Char('w') if ctrl => self.delete_word(),
            KeyCode::Backspace if ctrl || alt => self.delete_word(),
            KeyCode::Char('u') if ctrl => self.delete_to_start(),
            KeyCode::Char('k') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.changed_if(|s| s.text.truncate(at))
            }
            KeyCode::Char('a') if ctrl => self.move_to(0),
            KeyCode::Char('e') if ctrl => self.move_to(len),
            KeyCode::Char('b') if ctrl => self.move_to(self.cursor.saturating_sub(1)),
            KeyCode::Char('f') if ctrl => self.move_to((self.cursor + 1).min(len)),
            KeyCode::Char(_) if ctrl || alt => Edit::Ignored,
            KeyCode::Char(c) => self.insert(c.encode_utf8(&mut [0; 4])),
            KeyCode::Backspace => {
                if self.cursor == 0 {
                    return Edit::Ignored;
                }
                let (from, to) = (self.byte_at(self.cursor - 1), self.byte_at(self.cursor));
                self.text.replace_range(from..to, "");
                self.cursor -= 1;
                Edit::Changed
            }
            KeyCode::Delete => {
                if self.cursor >= len {
                    return Edit::Ignored;
                }
                let (from, to) = (self.byte_at(self.cursor), self.byte_at(self.cursor + 1));
                self.text.replace_range(from..to, "");
                Edit::Changed
            }
            KeyCode::Left => self.move_to(self.cursor.saturating_sub(1)),
            KeyCode::Right => self.move_to((self.cursor + 1).min(len)),
            KeyCode::Home => self.move_to(0),
            KeyCode::End => self.move_to(len),
            _ => Edit::Ignored,
        }
    }

    fn move_to(&mut self, cursor: usize) -> Edit {
        self.cursor = cursor;
        Edit::Moved
    }

    fn changed_if(&mut self, f: impl FnOnce(&mut LineInput)) -> Edit {
        let before = self.text.len();
        f(self);
        self.cursor = self.cursor.min(self.text.chars().count());
        if self.text.len() == before {
            Edit::Ignored
        } else {
            Edit::Changed
        }
    }

    /// Ctrl-W: the word before the cursor and the spaces after it.
    fn delete_word(&mut self) -> Edit {
        let chars: Vec<char> = self.text.chars().collect();
        let mut start = self.cursor.min(chars.len());
        while start > 0 && chars[start - 1].is_whitespace() {
            start -= 1;
        }
        while start > 0 && !chars[start - 1].is_whitespace() {
            start -= 1;
        }
        if start == self.cursor {
            return Edit::Ignored;
        }
        let (from, to) = (self.byte_at(start), self.byte_at(self.cursor));
        self.text.replace_range(from..to, "");
        self.cursor = start;
        Edit::Changed
    }

    fn delete_to_start(&mut self) -> Edit {
        if self.cursor == 0 {
            return Edit::Ignored;
        }
        let to = self.byte_at(self.cursor);
        self.text.replace_range(..to, "");
        self.cursor = 0;
        Edit::Changed
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }
}

/// One line of printable text: line breaks and tabs become spaces, other controls go.
fn clean(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .take(MAX_INPUT_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::from(code)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(s: &str) -> LineInput {
        let mut input = LineInput::default();
        for c in s.chars() {
            input.on_key(&key(KeyCode::Char(c)));
        }
        input
    }

    #[test]
    fn typing_inserts_at_the_cursor() {
        let mut input = typed("sara call");
        for _ in 0..5 {
            input.on_key(&key(KeyCode::Left));
        }
        input.on_key(&key(KeyCode::Char('X')));
        assert_eq!(input.text(), "saraX call");
        assert_eq!(input.cursor(), 5);
    }

    #[test]
    fn ctrl_w_deletes_the_previous_word_and_ctrl_u_the_line_start() {
        let mut input = typed("author:sara type:call  ");
        assert_eq!(input.on_key(&ctrl('w')), Edit::Changed);
        assert_eq!(input.text(), "author:sara ");
        input.on_key(&key(KeyCode::Left));
        assert_eq!(input.on_key(&ctrl('u')), Edit::Changed);
        assert_eq!(input.text(), " ");
        assert_eq!(input.cursor(), 0);
        assert_eq!(input.on_key(&ctrl('u')), Edit::Ignored);
    }

    #[test]
    fn backspace_and_delete_work_on_multibyte_text() {
        let mut input = typed("café ☎");
        input.on_key(&key(KeyCode::Backspace));
        assert_eq!(input.text(), "café ");
        input.on_key(&key(KeyCode::Home));
        input.on_key(&key(KeyCode::Right));
        input.on_key(&key(KeyCode::Right));
        input.on_key(&key(KeyCode::Right));
        input.on_key(&key(KeyCode::Delete));
        assert_eq!(input.text(), "caf ");
        assert_eq!(input.on_key(&key(KeyCode::Enter)), Edit::Ignored);
    }

    #[test]
    fn pasted_lines_and_controls_become_one_clean_line_of_bounded_length() {
        let mut input = LineInput::default();
        input.insert("renewal\nquote\u{1b}[31m\tnow");
        assert_eq!(input.text(), "renewal quote[31m now");
        input.insert(&"x".repeat(10_000));
        assert_eq!(input.text().chars().count(), MAX_INPUT_CHARS);
    }
}
