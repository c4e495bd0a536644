//! The Note pane's state: how far the note is scrolled, and the customer contacts it can show
//! instead of the note (fetched once per customer and kept).

use std::collections::HashMap;

use crate::model::Contact;

#[derive(Debug, Clone, Default)]
pub struct NotePane {
    /// First line shown, counted in wrapped lines.
    pub scroll: usize,
    /// The pane shows the selected customer's contacts instead of the selected note.
    pub show_contacts: bool,
    /// Contacts by customer id; an entry exists from the moment they are asked for.
    pub contacts: HashMap<String, ContactList>,
    /// The contacts request in flight: its generation and the customer it is for.
    pub pending: Option<(u64, String)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactList {
    pub items: Vec<Contact>,
    /// All pages arrived.
    pub done: bool,
}
