//! The first-run screen: no config file yet, so say where it goes, what to put in it and how
//! to store the API key, or how to try the app on fake data.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::ui::help::centred;
use crate::ui::theme;

pub fn draw(frame: &mut Frame, area: Rect, config_path: &str) {
    let code = theme::key();
    let lines = vec![
        Line::styled("Welcome to crm-notes", theme::strong()),
        Line::default(),
        Line::raw("No accounts are set up yet. Create the config file"),
        Line::styled(format!("  {}", crate::ui::fit(config_path, 200)), code),
        Line::raw("with an account, for example:"),
        Line::default(),
        Line::styled("  [accounts.acme]", code),
        Line::styled("  provider = \"chartmogul\"", code),
        Line::styled("  author_email = \"sara@example.com\"", code),
        Line::default(),
        Line::raw("then store the account's API key:"),
        Line::styled("  crm-notes auth set acme", code),
        Line::from(vec![
            Span::raw("(or set "),
            Span::styled("CRM_NOTES_API_KEY_ACME", code),
            Span::raw(" in the environment)."),
        ]),
        Line::default(),
        Line::from(vec![
            Span::raw("Just looking? Try it on fake data: "),
            Span::styled("crm-notes --demo", code),
        ]),
        Line::default(),
        Line::from(vec![
            Span::styled("q", theme::key()),
            Span::styled(" quit", theme::dim()),
        ]),
    ];
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let popup = centred(area, 64, height);
    let block = Block::bordered()
        .title(" crm-notes ")
        .title_style(theme::title(true))
        .border_style(theme::border(true));
    let paragraph = Paragraph::new(lines)
        .block(block)
        .style(Style::new())
        .wrap(Wrap { trim: false });
    frame.render_widget(paragraph, popup);
}
